"""A project's own rules (`[[tool.orm-lint.rules]]`), through the real CLI and the real flake8."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conftest import check_json, run_flake8, run_orm_lint
from orm_lint.config import Settings
from orm_lint.flake8_plugin import user_rules
from orm_lint.flake8_plugin.analysis import analyze
from orm_lint.user_rules import parse_user_rules

RULES = """\
[tool.orm-lint]

[[tool.orm-lint.rules]]
code = "ORM901"
name = "objects-all-in-billing"
pattern = "$M.objects.all()"
message = "$M.objects.all() is banned in billing; use a paginated manager method"
severity = "medium"
problem = "unbounded_query"
paths = ["billing/*"]
why = "Billing tables are the largest we have."

[[tool.orm-lint.rules]]
code = "ORM902"
name = "cache-key-not-in-house-format"
rule = { pattern = "cache.set($KEY, $$$REST)" }
constraints = { KEY = { not = { regex = '^f"\\{type\\}:\\{id\\}:user:' } } }
message = "cache key $KEY does not follow \\"{type}:{id}:user:{user_id}\\""
severity = "low"
"""
BILLING = """\
from billing.models import Invoice


def invoices():
    everything = Invoice.objects.all()
    recent = Invoice.objects.all()  # noqa: ORM901
    return everything, recent, "Café", Invoice.objects.all()
"""
CACHE = """\
def remember(cache, type, id, user_id, value):
    cache.set(f"{type}:{id}:user:{user_id}", value)
    cache.set(f"user:{user_id}", value, timeout=60)
"""


@pytest.fixture
def project(tmp_path: Path, write_module) -> Path:
    write_module(RULES, "pyproject.toml")
    write_module(BILLING, "billing/views.py")
    write_module(BILLING, "shop/views.py")  # outside the rule's paths
    write_module(CACHE, "app/cache.py")  # imports no ORM: the project's rules still apply
    return tmp_path


def test_rules_run_in_check_and_in_flake8_alike(project: Path) -> None:
    data = check_json(".", cwd=project)
    found = [(f["path"], f["line"], f["column"], f["end_line"], f["end_column"], f["code"]) for f in data["findings"]]
    assert found == [
        ("app/cache.py", 3, 5, 3, 52, "ORM902"),
        ("billing/views.py", 5, 18, 5, 39, "ORM901"),
        # "Café" before the match: columns count bytes, as flake8 and `ast` do.
        ("billing/views.py", 7, 41, 7, 62, "ORM901"),
    ]
    via_flake8 = [
        (str(f["path"]).removeprefix("./"), f["line"], f["col"], f["code"]) for f in run_flake8(".", cwd=project)
    ]
    assert via_flake8 == [(path, line, column, code) for path, line, column, _, _, code in found]
    by_code = {f["code"]: f for f in data["findings"]}
    assert by_code["ORM901"] == {
        **by_code["ORM901"],
        "name": "objects-all-in-billing",
        "problem": "unbounded_query",
        "category": "performance",
        "severity": "medium",
        "engine": "flake8",
        "message": "Invoice.objects.all() is banned in billing; use a paginated manager method",
    }
    assert by_code["ORM902"]["message"] == 'cache key f"user:{user_id}" does not follow "{type}:{id}:user:{user_id}"'
    assert (by_code["ORM902"]["problem"], by_code["ORM902"]["severity"]) == ("project_convention", "low")


def test_rules_are_listed_explained_and_in_sarif(project: Path) -> None:
    text = run_orm_lint("rules", cwd=project).stdout
    assert "ORM901  objects-all-in-billing" in text and "ORM902  cache-key-not-in-house-format" in text
    listed = {r["code"]: r for r in json.loads(run_orm_lint("rules", "--format", "json", cwd=project).stdout)}
    assert listed["ORM901"]["problem"] == "unbounded_query" and listed["ORM901"]["engine"] == "flake8"
    page = run_orm_lint("explain", "objects-all-in-billing", cwd=project).stdout
    assert page.startswith("# ORM901 `objects-all-in-billing`") and "Billing tables are the largest" in page
    sarif = json.loads(run_orm_lint("check", "--no-mypy", "--format", "sarif", ".", cwd=project).stdout)
    run = sarif["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        if result["ruleId"] == "ORM901":
            assert descriptors[result["ruleIndex"]]["name"] == "objects-all-in-billing"
            assert result["level"] == "warning"


def test_select_ignore_and_severity_apply_to_them(project: Path) -> None:
    text = (project / "pyproject.toml").read_text().replace(
        "[tool.orm-lint]\n", '[tool.orm-lint]\nignore = ["ORM902"]\nseverity = { ORM901 = "high" }\n'
    )
    (project / "pyproject.toml").write_text(text)
    findings = check_json(".", cwd=project)["findings"]
    assert {(f["code"], f["severity"]) for f in findings} == {("ORM901", "high")}


@pytest.mark.parametrize(
    "rule, complaint",
    [
        ('code = "ORM150"', "rule ORM150 (r): `code` must be in the block reserved for project rules, ORM900-ORM999"),
        ('code = "ORM901"\npattern = "$M.objects.all("', "rule ORM901 (r): `pattern` is not valid Python"),
        ('code = "ORM901"\npattern = "$$$"', "rule ORM901 (r): ast-grep rejects `pattern`: Standalone multi meta"),
        ('code = "ORM901"\nrule = { patern = "x" }', "(r): ast-grep rejects `rule`: unknown field `patern`"),
        ('code = "ORM901"\npattern = "x"\nrule = { pattern = "x" }', "(r): give exactly one of `pattern` and `rule`"),
        ('code = "ORM901"\npattern = "$A.delete()"\nseverity = "urgent"', "(r): `severity` must be one of critical"),
        ('code = "ORM901"\npattern = "$A.delete()"\nproblem = "slow"', "rule ORM901 (r): `problem` must be one of"),
        ('code = "ORM901"\npattern = "$A.delete()"\npath = ["a"]', "rule ORM901 (r): unknown fields path"),
        ('code = "ORM901"\npattern = "$A.delete()"\npaths = "a/*"', "rule ORM901 (r): `paths` must be a list of globs"),
    ],
)
def test_a_bad_rule_is_an_error_naming_it(tmp_path: Path, write_module, rule: str, complaint: str) -> None:
    name_and_message = 'name = "r"\nmessage = "$M"\n' if "$M" in rule else 'name = "r"\nmessage = "no"\n'
    if "pattern" not in rule and "rule =" not in rule:
        rule += '\npattern = "x"'
    write_module(f"[[tool.orm-lint.rules]]\n{name_and_message}{rule}\n", "pyproject.toml")
    write_module("x = 1\n", "app.py")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert "pyproject.toml: rule ORM" in proc.stderr and complaint in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "Stack backtrace" not in proc.stderr


@pytest.mark.parametrize(
    "second, complaint",
    [
        ('code = "ORM901"\nname = "other"', "rule ORM901 (other): duplicate `code`, already used by rule ORM901 (r)"),
        ('code = "ORM902"\nname = "r"', "rule ORM902 (r): duplicate `name`, already used by rule ORM901 (r)"),
        ('code = "ORM902"\nname = "query-in-loop"', "`name` 'query-in-loop' is the name of a built-in rule"),
        ('code = "ORM902"\nname = "Bad_Name"', "`name` must be kebab-case"),
        ('code = "ORM902"\nname = "m"\nmessage = "$X is bad"', "`message` uses $X, not in the pattern"),
        ('code = "ORM902"', "rule ORM902: `name` is missing"),
    ],
)
def test_duplicates_and_names_are_checked(tmp_path: Path, write_module, second: str, complaint: str) -> None:
    first = '[[tool.orm-lint.rules]]\ncode = "ORM901"\nname = "r"\npattern = "$A.delete()"\nmessage = "m"\n'
    if "message" not in second:
        second += '\nmessage = "m"'
    write_module(f'{first}\n[[tool.orm-lint.rules]]\n{second}\npattern = "$A.save()"\n', "pyproject.toml")
    proc = run_orm_lint("rules", cwd=tmp_path)
    assert proc.returncode == 2 and complaint in proc.stderr, proc.stderr


def test_files_outside_every_rules_paths_are_not_parsed_by_ast_grep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Projects (or files) without rules of their own pay nothing: ast-grep never runs for them."""
    rules = parse_user_rules(
        [{"code": "ORM901", "name": "r", "pattern": "$M.objects.all()", "message": "m", "paths": ["billing/*"]}],
        "rules",
        "pyproject.toml",
    )
    parsed: list[str] = []
    real = user_rules.user_rule_reports
    monkeypatch.setattr(
        user_rules, "user_rule_reports", lambda source, rules: parsed.append(source) or real(source, rules)
    )
    monkeypatch.setattr("orm_lint.flake8_plugin.analysis.user_rule_reports", user_rules.user_rule_reports)
    tree = ast.parse(BILLING)
    assert analyze(tree, "shop/views.py", Settings(user_rules=rules), BILLING) == []
    assert analyze(tree, "billing/views.py", Settings(), BILLING) == []
    assert parsed == []
    reports = analyze(tree, "billing/views.py", Settings(user_rules=rules), BILLING)
    assert [r.rule.code for r in reports] == ["ORM901"] * 3
    assert parsed == [BILLING]
