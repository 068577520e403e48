"""Test modules are not checked by default: their queries run on a throwaway database, with no user input.

Real `orm-lint check`, real flake8 and real mypy on small projects; `tests = "check"` (or `--tests check`)
brings test modules back, and a project that merely lives under a folder named `tests` is checked in full.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import check_json, run_flake8, run_orm_lint
from test_mypy_plugin import SQLALCHEMY_PROJECT, mypy, write

INJECTION = """\
from django.db import connection


def find(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM shop_book WHERE title = '{request.GET['t']}'")
"""
LAYOUT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "shop/__init__.py": "",
    "shop/views.py": INJECTION,
    "shop/tests/__init__.py": "",
    "shop/tests/test_views.py": INJECTION,
    "shop/tests.py": INJECTION,
    "conftest.py": INJECTION,
    "test/helpers.py": INJECTION,
}


def _project(root: Path, extra_settings: str = "") -> Path:
    for name, text in LAYOUT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if extra_settings:
        (root / "pyproject.toml").write_text(f"{LAYOUT['pyproject.toml']}\n[tool.orm-lint]\n{extra_settings}\n")
    return root


def _places(result: dict[str, object]) -> list[str]:
    return sorted(f["path"] for f in result["findings"])  # type: ignore[index, union-attr]


def test_check_leaves_test_modules_out_and_says_how_many(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = check_json(".", cwd=root)
    assert _places(result) == ["shop/views.py"]
    assert result["summary"]["tests_not_checked"] == 5  # type: ignore[index]
    text = run_orm_lint("check", "--no-mypy", ".", cwd=root)
    assert '5 test modules were not checked; to check them, pass --tests check or set tests = "check"' in text.stdout


def test_tests_check_brings_them_back_from_the_flag_or_the_settings(tmp_path: Path) -> None:
    every = ["conftest.py", "shop/tests.py", "shop/tests/test_views.py", "shop/views.py", "test/helpers.py"]
    assert _places(check_json(".", "--tests", "check", cwd=_project(tmp_path / "flag"))) == every
    configured = _project(tmp_path / "settings", 'tests = "check"')
    result = check_json(".", cwd=configured)
    assert _places(result) == every
    assert result["summary"]["tests_not_checked"] == 0  # type: ignore[index]


def test_flake8_follows_the_setting(tmp_path: Path) -> None:
    root = _project(tmp_path / "default")
    assert sorted(f["path"] for f in run_flake8(".", cwd=root)) == ["./shop/views.py"]
    configured = _project(tmp_path / "settings", 'tests = "check"')
    assert len(run_flake8(".", cwd=configured)) == 5


def test_a_project_kept_under_a_folder_named_tests_is_checked(tmp_path: Path) -> None:
    root = _project(tmp_path / "tests" / "checkout")
    result = check_json(str(root))  # an absolute path that runs through `/tests/`
    assert [Path(p).relative_to(root).as_posix() for p in _places(result)] == ["shop/views.py"]


def test_the_mypy_plugin_is_silent_in_test_modules_too(tmp_path: Path) -> None:
    reports = textwrap.dedent(SQLALCHEMY_PROJECT["shop/reports.py"])
    write(tmp_path, {**SQLALCHEMY_PROJECT, "shop/tests/__init__.py": "", "shop/tests/test_reports.py": reports})
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\n")
    found = {line.split(":")[0] for line in mypy(tmp_path, "shop")}
    assert found == {"shop/reports.py"}
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\ntests = check\n")
    found = {line.split(":")[0] for line in mypy(tmp_path, "shop")}
    assert found == {"shop/reports.py", "shop/tests/test_reports.py"}
