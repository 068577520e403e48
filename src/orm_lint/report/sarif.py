"""SARIF 2.1.0 for GitHub code scanning and other dashboards, and GitHub workflow annotations.

Both are written from findings and the catalogue: a SARIF rule carries the rule's page
as its help. Paths are relative to the working folder (`%SRCROOT%`): run from the
repository root for GitHub. A notebook finding points at the notebook file as a whole
(its JSON lines are not the cell's lines) and names the cell and line in its message.
Codes that are not orm-lint's (other flake8 plugins through the flake8 formatter) are
written with a minimal rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..catalogue import RULES_BY_CODE, Category, Rule, Severity, all_rules
from ..rule_docs import rule_page
from ..findings import Finding

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/orm-lint/"
SARIF_LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
GITHUB_LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}
# GitHub's scale for `security-severity`: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, below low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
PROBLEM_SEVERITY = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "recommendation",
}
FOREIGN_LEVEL = "warning"


def is_security_rule(rule: Rule) -> bool:
    """Security rules, and the migration rule whose problem is the same injection."""
    return rule.category is Category.SECURITY or rule.problem == "raw_sql"


def _help_text(rule: Rule) -> str:
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(rule.docs.fix_steps, 1))
    return (
        f"{rule.summary}\n\nWhy is this bad? {rule.docs.why_bad}\n\nHow to fix it:\n{steps}\n\n"
        f"How to test the fix: {rule.docs.how_to_test}"
    )


def rule_descriptor(rule: Rule) -> dict[str, object]:
    tags = [rule.category.value, rule.problem, *(f.value for f in rule.frameworks)]
    properties: dict[str, object] = {"precision": "high"}
    if is_security_rule(rule):
        tags.insert(0, "security")
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    else:
        properties["problem.severity"] = PROBLEM_SEVERITY[rule.severity]
    properties["tags"] = list(dict.fromkeys(tags))
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs.what_it_does},
        "help": {"text": _help_text(rule), "markdown": rule_page(rule).split("\n", 1)[1].strip()},
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": properties,
    }


def _foreign_descriptor(code: str) -> dict[str, object]:
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": f"{code} (reported through flake8)"},
        "defaultConfiguration": {"level": FOREIGN_LEVEL},
    }


def artifact_location(path: str) -> dict[str, str]:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _message(finding: Finding) -> str:
    if finding.cell is None:
        return finding.message
    return f"cell {finding.cell}, line {finding.line}: {finding.message}"


def _region(finding: Finding) -> dict[str, int]:
    if finding.cell is not None:
        return {"startLine": 1}
    region = {"startLine": finding.line, "startColumn": max(1, finding.column)}
    if _has_extent(finding):  # flake8 reports a point; an empty region would highlight nothing
        region["endLine"] = finding.end_line
        region["endColumn"] = max(1, finding.end_column)
    return region


def _has_extent(finding: Finding) -> bool:
    return finding.end_line > finding.line or (finding.end_line == finding.line and finding.end_column > finding.column)


def sarif_document(
    findings: Sequence[Finding],
    problems: Sequence[object] = (),
    fingerprints: Sequence[str] | None = None,
    tool_name: str = "orm-lint",
) -> dict[str, object]:
    """The SARIF log as a dict: every catalogue rule, one result per finding."""
    in_force = all_rules()  # built-in rules (with severity overrides) and the project's own
    descriptors: list[dict[str, object]] = [rule_descriptor(rule) for rule in in_force]
    indexes = {rule.code: number for number, rule in enumerate(in_force)}
    results = []
    for number, finding in enumerate(findings):
        rule = RULES_BY_CODE.get(finding.code)
        if finding.code not in indexes:
            indexes[finding.code] = len(descriptors)
            descriptors.append(_foreign_descriptor(finding.code))
        result: dict[str, object] = {
            "ruleId": finding.code,
            "ruleIndex": indexes[finding.code],
            "level": SARIF_LEVELS[finding.severity] if rule else FOREIGN_LEVEL,
            "message": {"text": _message(finding)},
            "locations": [
                {"physicalLocation": {"artifactLocation": artifact_location(finding.path), "region": _region(finding)}}
            ],
        }
        properties: dict[str, object] = dict(finding.details)  # what the engine knew: framework, fix, ...
        if finding.cell is not None:
            properties.update(cell=finding.cell, cellLine=finding.line, cellColumn=finding.column)
        if properties:
            result["properties"] = properties
        if fingerprints is not None:
            result["partialFingerprints"] = {"ormLintFingerprint/v1": fingerprints[number]}
        results.append(result)
    notifications: list[dict[str, object]] = []
    for problem in problems:
        notification: dict[str, object] = {
            "level": "warning",
            "message": {"text": str(getattr(problem, "message", problem))},
        }
        path = str(getattr(problem, "path", "."))
        if path not in {"", "."}:
            notification["locations"] = [{"physicalLocation": {"artifactLocation": artifact_location(path)}}]
        notifications.append(notification)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool_name,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }


def render_sarif(
    findings: Sequence[Finding], problems: Sequence[object] = (), fingerprints: Sequence[str] | None = None
) -> str:
    return json.dumps(sarif_document(findings, problems, fingerprints), indent=2, ensure_ascii=False)


# -- GitHub workflow commands --------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding) -> str:
    rule = RULES_BY_CODE.get(finding.code)
    level = GITHUB_LEVELS[finding.severity] if rule else FOREIGN_LEVEL
    title = f"{finding.code} {rule.name}" if rule else finding.code
    properties = [f"file={_escape_property(finding.path)}"]
    if finding.cell is None:  # a notebook's JSON lines are not its cells' lines: annotate the file
        properties += [f"line={finding.line}", f"col={finding.column}"]
        if _has_extent(finding):
            properties += [f"endLine={finding.end_line}", f"endColumn={finding.end_column}"]
    properties.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(properties)}::{_escape_data(_message(finding))}"


def render_github(findings: Sequence[Finding], problems: Sequence[object] = ()) -> str:
    lines = [github_annotation(finding) for finding in findings]
    for problem in problems:
        path = str(getattr(problem, "path", "."))
        where = f"file={_escape_property(path)}," if path not in {"", "."} else ""
        message = _escape_data(str(getattr(problem, "message", problem)))
        lines.append(f"::warning {where}title=orm-lint could not analyse a file::{message}")
    return "\n".join(lines)
