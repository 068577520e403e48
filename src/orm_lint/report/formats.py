"""Writing findings: text (flake8-like lines) and JSON (the contract other tools read).

A notebook finding reads `notebook.ipynb:cell 3:2:5: ORM101 ...` in text; in JSON it has
a `cell` (the cell's 1-based position in the notebook) and `line` counts within that cell.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from .. import __version__
from ..catalogue import RULES_BY_CODE, Severity
from ..findings import Finding
from ..sources import source_lines

JSON_VERSION = 1


def plural(count: int, noun: str) -> str:
    """`1 finding`, `2 findings`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render_text(findings: Sequence[Finding], problems: Sequence[object], files: int, show_source: bool = False) -> str:
    """flake8's lines; with `show_source`, each followed by its source line and a caret under the column."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.location}:{finding.column}: {finding.code} {finding.message}")
        if show_source:
            lines += _source_excerpt(finding)
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    lines.append(
        f"orm-lint: {plural(len(findings), 'finding')} in {plural(files, 'file')}"
        + (f" ({summary})" if summary else "")
    )
    return "\n".join(lines)


def _source_excerpt(finding: Finding) -> list[str]:
    lines = source_lines(finding.path, finding.cell)
    if not 0 < finding.line <= len(lines):
        return []
    text = lines[finding.line - 1].expandtabs(1)
    return [text, " " * (finding.column - 1) + "^"]


def render_statistics(findings: Sequence[Finding]) -> str:
    """flake8's `--statistics`: how many findings of each code, with the rule's name."""
    counts = Counter(f.code for f in findings)
    return "\n".join(f"{counts[code]:<5} {code} {RULES_BY_CODE[code].name}" for code in sorted(counts))


def render_json(
    findings: Sequence[Finding],
    problems: Sequence[object],
    files: int,
    engines: Sequence[str],
    mypy_errors: int = 0,
    migrations_not_reviewed: int = 0,
    tests_not_checked: int = 0,
    not_run: Sequence[dict[str, object]] = (),
    notes: Sequence[str] = (),
) -> str:
    """`engines` lists the engines that ran; `not_run`, the rules that did not, and why."""
    data = {
        "version": JSON_VERSION,
        "tool": {"name": "orm-lint", "version": __version__},
        "engines": list(engines),
        "files": files,
        "findings": [f.as_json() for f in findings],
        "errors": [{"path": p.path, "message": p.message} for p in problems],  # type: ignore[attr-defined]
        "not_run": list(not_run),
        "notes": list(notes),
        "summary": {
            "findings": len(findings),
            "by_severity": {s.value: sum(1 for f in findings if f.severity is s) for s in Severity},
            "mypy_errors_not_reported": mypy_errors,
            "migrations_not_reviewed": migrations_not_reviewed,
            "tests_not_checked": tests_not_checked,
        },
    }
    return json.dumps(data, indent=2)
