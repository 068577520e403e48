"""SARIF 2.1.0 and GitHub annotations, from `orm-lint check` and from flake8's formatter plugins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from conftest import FIXTURES, ROOT, check_json, run_orm_lint

EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _valid(document: dict[str, object]) -> dict[str, object]:
    errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return document


def _sarif(*args: str, cwd: Path) -> dict[str, object]:
    proc = run_orm_lint("check", "--format", "sarif", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return _valid(json.loads(proc.stdout))


def _flake8(fmt: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--format={fmt}", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_the_schema_rejects_broken_logs() -> None:
    """The vendored schema is the real one: it catches what code scanning would refuse."""
    document = _sarif("--no-mypy", ".", cwd=EXAMPLES)
    document["runs"][0]["results"][0]["level"] = "fatal"  # type: ignore[index]
    assert list(VALIDATOR.iter_errors(document))
    assert list(VALIDATOR.iter_errors({"version": "2.1.0"}))


def test_sarif_from_check_on_the_examples() -> None:
    document = _sarif(".", cwd=EXAMPLES)
    [run] = document["runs"]  # type: ignore[misc]
    findings = check_json(".", cwd=EXAMPLES, mypy=True)["findings"]
    rules = run["tool"]["driver"]["rules"]
    by_id = {rule["id"]: rule for rule in rules}
    assert {"ORM101", "ORM201", "ORM301"} <= set(by_id)
    sql = by_id["ORM201"]
    assert sql["name"] == "sql-built-from-strings"
    assert sql["defaultConfiguration"] == {"level": "error"}
    assert sql["properties"]["security-severity"] == "9.5" and sql["properties"]["tags"][0] == "security"
    assert sql["help"]["markdown"].startswith("# ORM201 `sql-built-from-strings`")
    assert "## Use instead" in sql["help"]["markdown"] and "Why is this bad?" in sql["help"]["text"]
    assert by_id["ORM103"]["defaultConfiguration"] == {"level": "warning"}
    assert "security-severity" not in by_id["ORM101"]["properties"]
    results = run["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        (f["code"], f["line"]) for f in findings
    ]
    first = results[0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "bookshop/services.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 12, "startColumn": 38, "endLine": 12, "endColumn": 49}
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["ORM201"] == "error" and levels["ORM103"] == "warning"
    assert all(r["partialFingerprints"]["ormLintFingerprint/v1"] for r in results)


def test_sarif_uris_are_relative_and_encoded(tmp_path: Path, write_module) -> None:
    write_module(
        "from app.models import Book\n\n\ndef f():\n    return [b.author.name for b in Book.objects.all()]\n",
        "my app/ünï #1.py",
    )
    document = _sarif("--no-mypy", ".", cwd=tmp_path)
    [result] = document["runs"][0]["results"]  # type: ignore[index]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/%C3%BCn%C3%AF%20%231.py"


def test_unparseable_files_become_notifications(tmp_path: Path, write_module) -> None:
    write_module("def broken(:\n", "broken.py")
    document = _sarif("--no-mypy", ".", cwd=tmp_path)
    [notification] = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]  # type: ignore[index]
    assert "cannot parse the file (line 1)" in notification["message"]["text"]


def test_github_annotations(tmp_path: Path) -> None:
    proc = run_orm_lint("check", "--no-mypy", "--format", "github", ".", cwd=EXAMPLES)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "::error file=bookshop/services.py,line=12,col=38,endLine=12,endColumn=49,"
        "title=ORM102 relation-loaded-per-item::book.author loads a related object once per item of "
        'Book.objects.order_by(...); add select_related("author") to the query'
    )
    assert any(line.startswith("::warning file=bookshop/views.py,line=8,") for line in lines), "medium is a warning"
    # the SQLAlchemy many-to-one is medium: the identity map serves repeated targets
    assert any(line.startswith("::warning file=orders_api/api.py,line=11,") for line in lines)
    assert len(lines) == 9  # with ORM306 on orders_api/models.py
    clean = run_orm_lint("check", "--no-mypy", "--format", "github", str(tmp_path))
    assert clean.returncode == 0 and clean.stdout == ""


def test_flake8_formatter_plugins() -> None:
    proc = _flake8("orm-sarif", "--select", "ORM,E501", ".", cwd=EXAMPLES)
    assert proc.returncode == 1, proc.stderr
    document = _valid(json.loads(proc.stdout))
    results = document["runs"][0]["results"]  # type: ignore[index]
    codes = {r["ruleId"] for r in results}
    assert {"ORM101", "ORM102", "ORM201", "E501"} <= codes
    rules = document["runs"][0]["tool"]["driver"]["rules"]  # type: ignore[index]
    assert rules[next(r["ruleIndex"] for r in results if r["ruleId"] == "E501")]["id"] == "E501"
    orm = next(r for r in results if r["ruleId"] == "ORM102")
    assert orm["locations"][0]["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 38}
    assert orm["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bookshop/services.py"

    github = _flake8("orm-github", "--select", "ORM", ".", cwd=EXAMPLES)
    assert github.returncode == 1, github.stderr
    lines = github.stdout.splitlines()
    assert len(lines) == 9
    assert lines[0].startswith(
        "::error file=bookshop/services.py,line=12,col=38,title=ORM102 relation-loaded-per-item::"
    )


def test_findings_carry_their_structure_in_json_and_sarif() -> None:
    """What the engine knew travels as data: the framework, the enclosing function, the model, the fix."""
    examples = ROOT / "examples"
    findings = check_json(".", cwd=examples)["findings"]
    by_place = {(f["path"], f["line"]): f for f in findings}  # type: ignore[index]
    n_plus_one = by_place[("bookshop/services.py", 12)]
    assert n_plus_one["framework"] == "django" and n_plus_one["function"] == "export_catalogue"
    assert n_plus_one["fix"] == 'add select_related("author") to the query'
    assert n_plus_one["message"].endswith(n_plus_one["fix"]), "the fix is rendered into the message once"
    commit = by_place[("orders_api/api.py", 22)]
    assert commit["framework"] == "sqlalchemy" and commit["operation"] == "commit"
    assert commit["function"] == "import_customers"
    sarif = _sarif(".", "--no-mypy", cwd=examples)
    results = sarif["runs"][0]["results"]  # type: ignore[index]
    [result] = [r for r in results if r["locations"][0]["physicalLocation"]["region"]["startLine"] == 12]
    assert result["properties"]["framework"] == "django" and result["properties"]["function"] == "export_catalogue"
    assert result["properties"]["fix"] == n_plus_one["fix"]
