"""`orm-lint check`, `rules`, `explain`, `docs` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, ROOT, check_json, run_flake8, run_orm_lint

N_PLUS_ONE = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]{comment}
"""


def test_exit_codes(tmp_path: Path, write_module) -> None:
    clean = write_module("import django\n", "clean.py")
    bad = write_module(N_PLUS_ONE.format(comment=""), "bad.py")
    assert run_orm_lint("check", str(clean)).returncode == 0
    assert run_orm_lint("check", str(bad)).returncode == 1
    missing = run_orm_lint("check", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert run_orm_lint("check", "--format", "yaml").returncode == 2
    assert run_orm_lint("explain", "ORM999").returncode == 2


def test_json_contract(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE.format(comment=""), "app/services.py")
    data = check_json(".", cwd=tmp_path)
    assert data["version"] == 1
    [finding] = data["findings"]
    assert finding == {
        **finding,
        "path": "app/services.py",
        "line": 5,
        "column": 13,
        "end_line": 5,
        "end_column": 21,
        "code": "ORM102",
        "name": "relation-loaded-per-item",
        "problem": "n_plus_one",
        "severity": "high",
        "engine": "flake8",
    }
    assert finding["message"].startswith("b.author loads a related object")


def test_text_output_is_flake8_like(write_module) -> None:
    path = write_module(N_PLUS_ONE.format(comment=""))
    lines = run_orm_lint("check", "--no-mypy", str(path)).stdout.splitlines()
    assert lines[0].startswith(f"{path}:5:13: ORM102 b.author loads a related object")
    assert lines[-1].startswith("orm-lint: 1 finding in 1 file")


def test_noqa_like_flake8(write_module) -> None:
    for comment, silenced in [
        ("  # noqa: ORM102", True),
        ("  # noqa", True),
        ("  # NOQA:ORM1", True),
        ("  # noqa: ORM201", False),
        ("  # noqa: E501", False),
    ]:
        path = write_module(N_PLUS_ONE.format(comment=comment))
        codes = [f["code"] for f in check_json(str(path))["findings"]]
        assert codes == ([] if silenced else ["ORM102"]), comment
        assert [f["code"] for f in run_flake8(path)] == codes, "flake8 and orm-lint agree"


def test_select_and_ignore(write_module) -> None:
    path = write_module(N_PLUS_ONE.format(comment=""))
    assert check_json(str(path), "--ignore", "ORM1")["findings"] == []
    assert check_json(str(path), "--select", "ORM2")["findings"] == []
    assert len(check_json(str(path), "--select", "ORM1", "--ignore", "ORM2")["findings"]) == 1


def test_settings_from_pyproject_and_setup_cfg(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE.format(comment=""), "services.py")
    write_module('[tool.orm-lint]\nignore = ["ORM102"]\n', "pyproject.toml")
    assert check_json(".", cwd=tmp_path)["findings"] == []
    (tmp_path / "pyproject.toml").unlink()
    write_module("[orm-lint]\nexclude = services.py\n", "setup.cfg")
    assert check_json(".", cwd=tmp_path)["files"] == 0


def test_unknown_setting_warns_and_bad_value_fails(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE.format(comment=""), "services.py")
    write_module('[tool.orm-lint]\nignroe = ["ORM102"]\n', "pyproject.toml")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 1 and "unknown setting `ignroe`" in proc.stderr
    write_module('[tool.orm-lint]\njobs = "many"\n', "pyproject.toml")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "pyproject.toml: `jobs` must be a whole number" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreadable_files_get_one_diagnostic_and_the_run_goes_on(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE.format(comment=""), "good.py")
    write_module("def broken(:\n    pass\n", "syntax.py")
    (tmp_path / "latin1.py").write_bytes(b"name = '\xe9t\xe9'\n")
    (tmp_path / "nul.py").write_bytes(b"import django\x00\n")
    (tmp_path / "bom.py").write_bytes("\ufeffimport django\nx = 1\n".encode())
    proc = run_orm_lint("check", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert [f["path"] for f in data["findings"]] == ["good.py"]
    errors = {e["path"]: e["message"] for e in data["errors"]}
    assert set(errors) == {"syntax.py", "latin1.py", "nul.py"}
    assert "line 1" in errors["syntax.py"]
    text = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert "syntax.py: cannot parse the file (line 1)" in text.stderr


def test_parallel_run_matches_single_process(tmp_path: Path, write_module) -> None:
    for number in range(60):
        write_module(N_PLUS_ONE.format(comment=""), f"pkg/m{number:02}.py")
    single = check_json(".", "--jobs", "1", cwd=tmp_path)["findings"]
    parallel = check_json(".", "--jobs", "2", cwd=tmp_path)["findings"]
    assert len(single) == 60 and single == parallel


def test_analysed_code_is_never_imported(tmp_path: Path, write_module) -> None:
    marker = tmp_path / "imported"
    write_module(f"import django\nopen({str(marker)!r}, 'w').close()\n", "sideeffect.py")
    run_orm_lint("check", ".", cwd=tmp_path)
    run_flake8(tmp_path)
    assert not marker.exists()


def test_check_and_flake8_agree_on_the_fixtures() -> None:
    folder = FIXTURES / "syntax"
    via_check = {(f["path"], f["line"], f["code"]) for f in check_json(".", cwd=folder)["findings"]}
    via_flake8 = {(str(f["path"]).removeprefix("./"), f["line"], f["code"]) for f in run_flake8(".", cwd=folder)}
    assert via_check == via_flake8


def test_rules_and_explain() -> None:
    rules = json.loads(run_orm_lint("rules", "--format", "json").stdout)
    assert {r["code"] for r in rules} >= {"ORM101", "ORM102", "ORM103", "ORM201"}
    assert all(r["problem"] and r["engine"] in {"flake8", "mypy"} for r in rules)
    text = run_orm_lint("rules").stdout
    assert "ORM101  query-in-loop" in text
    page = run_orm_lint("explain", "query-in-loop").stdout
    assert page.startswith("# ORM101 `query-in-loop`") and "## Use instead" in page


def test_docs_check_reports_stale_pages(tmp_path: Path) -> None:
    assert run_orm_lint("docs", "--check", "--output", str(ROOT / "docs")).returncode == 0
    assert run_orm_lint("docs", "--check", "--output", str(tmp_path)).returncode == 1


def test_examples_show_their_findings() -> None:
    data = check_json(".", cwd=ROOT / "examples", mypy=True)
    assert data["engines"] == ["flake8", "mypy"]
    found = sorted((f["path"], f["line"], f["code"]) for f in data["findings"])
    assert found == [
        ("bookshop/services.py", 12, "ORM110"),
        ("bookshop/services.py", 24, "ORM101"),
        ("bookshop/services.py", 36, "ORM201"),
        ("bookshop/views.py", 8, "ORM103"),
        ("orders_api/api.py", 11, "ORM110"),
        ("orders_api/api.py", 22, "ORM101"),
        ("orders_api/api.py", 31, "ORM201"),
        ("orders_api/api.py", 41, "ORM501"),
        # Order.status is filtered at two places; run from examples/, below the project's root
        ("orders_api/models.py", 18, "ORM306"),
    ]


def test_backend_setting_is_checked(tmp_path: Path, write_module) -> None:
    write_module("import django\n", "app.py")
    write_module('[tool.orm-lint]\nbackend = "Postgres"\n', "pyproject.toml")
    assert run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path).returncode == 0
    write_module('[tool.orm-lint]\nbackend = "oracle"\n', "pyproject.toml")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "`backend` must be one of postgresql, mysql, sqlite" in proc.stderr


def test_a_fifo_named_like_python_is_skipped(tmp_path: Path, write_module) -> None:
    import os

    write_module(N_PLUS_ONE.format(comment=""), "real.py")
    os.mkfifo(tmp_path / "pipe.py")
    data = check_json(".", cwd=tmp_path)
    assert data["files"] == 1
