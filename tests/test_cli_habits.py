"""What flake8 and ruff users reach for first: stdin, --exit-zero, --output-file, --statistics, progress."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import run_on_terminal, run_orm_lint
from test_engine_failures import VIEWS, project

N_PLUS_ONE = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""


def test_stdin_is_checked_as_the_named_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "-", "--stdin-filename", "app/services.py", "--no-mypy"],
        input=N_PLUS_ONE,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("app/services.py:5:13: ORM102 ")


def test_stdin_through_mypy_uses_the_buffer_not_the_file(tmp_path: Path) -> None:
    project(tmp_path, {"app/views.py": "X = 1\n"})  # on disk: nothing to report; the editor's buffer: an N+1
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "-", "--stdin-filename", "app/views.py", "--format", "json"],
        input=VIEWS,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data["engines"] == ["flake8", "mypy"], proc.stderr
    assert [(f["path"], f["code"]) for f in data["findings"]] == [("app/views.py", "ORM110")]


def test_exit_zero_output_file_statistics_and_source(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(N_PLUS_ONE)
    (tmp_path / "b.py").write_text(N_PLUS_ONE)
    assert run_orm_lint("check", ".", "--no-mypy", "--exit-zero", cwd=tmp_path).returncode == 0
    proc = run_orm_lint("check", ".", "--no-mypy", "--output-file", "out.txt", "--statistics", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    written = (tmp_path / "out.txt").read_text().splitlines()
    assert written[-2:] == ["orm-lint: 2 findings in 2 files (2 high)", "2     ORM102 relation-loaded-per-item"]
    shown = run_orm_lint("check", "a.py", "--no-mypy", "--show-source", cwd=tmp_path).stdout.splitlines()
    assert shown[1:3] == ["    return [b.author.name for b in Book.objects.all()]", " " * 12 + "^"]


def test_unknown_codes_on_the_command_line_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(N_PLUS_ONE)
    proc = run_orm_lint("check", "a.py", "--no-mypy", "--select", "ORM1,E501", cwd=tmp_path)
    assert proc.returncode == 2
    assert "`--select` holds codes that are not orm-lint codes: E501" in proc.stderr


def test_progress_on_a_terminal_names_the_mypy_phase_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    project(tmp_path, {})
    proc, shown = run_on_terminal("check", "app", cwd=tmp_path)
    assert proc.returncode == 1
    assert "orm-lint: syntax engine 0/3 files" in shown and "orm-lint: mypy with orm-lint's plugin on 3 files" in shown
    assert shown.endswith("\r\033[K")
    assert run_orm_lint("check", "app", cwd=tmp_path).stderr == ""
    assert run_on_terminal("check", "app", "--quiet", cwd=tmp_path)[1] == ""


def test_follow_imports_skip_is_said(tmp_path: Path) -> None:
    project(tmp_path, {}, "[mypy]\n[mypy-app.models]\nfollow_imports = skip\n")
    proc = run_orm_lint("check", "app/views.py", cwd=tmp_path)
    assert "ORM110" not in proc.stdout, "mypy cannot see the models"
    assert proc.stderr.splitlines() == [
        "orm-lint: note: mypy's settings hide code from orm-lint's type-aware rules: follow_imports = skip or "
        "ignore_errors for app.models: the rules see no models and report nothing there"
    ]


def test_plain_mypy_says_when_unannotated_functions_are_skipped(tmp_path: Path) -> None:
    project(tmp_path, {}, "[mypy]\nplugins = orm_lint.mypy_plugin\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "app", "--cache-dir", str(tmp_path / ".mypy")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.stderr.count("check_untyped_defs is off") == 1, proc.stderr


def test_docs_is_not_offered_and_keeps_foreign_files(tmp_path: Path) -> None:
    assert "docs" not in run_orm_lint("--help").stdout
    (tmp_path / "rules.md").write_text("# our own page\n")
    proc = run_orm_lint("docs", "--output", str(tmp_path))
    assert proc.returncode == 2 and "not overwriting files `orm-lint docs` did not write" in proc.stderr
    assert (tmp_path / "rules.md").read_text() == "# our own page\n"
