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
# A query per row, which query-in-loop reports only outside test modules.
LOOP = """\
from shop.models import Author, Book


def authors():
    return [Author.objects.get(pk=b.author_id) for b in Book.objects.all()]
"""


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
    """Every rule, the ones that leave test modules alone too, from the command line and from flake8 given the
    absolute path (as editors give it)."""
    root = _project(tmp_path / "tests" / "checkout")
    (root / "shop/loops.py").write_text(LOOP, encoding="utf-8")
    result = check_json(str(root))  # an absolute path that runs through `/tests/`
    findings: list[dict[str, str]] = result["findings"]  # type: ignore[assignment]
    found = sorted((Path(f["path"]).relative_to(root).as_posix(), f["code"]) for f in findings)
    assert found == [("shop/loops.py", "ORM101"), ("shop/views.py", "ORM201")]
    assert [f["code"] for f in run_flake8(root / "shop/loops.py")] == ["ORM101"]


def test_a_tests_folder_without_project_markers_is_still_tests(tmp_path: Path) -> None:
    for name in ("tests/helpers.py", "tests/test_views.py", "app/views.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(INJECTION, encoding="utf-8")
    result = check_json(".", cwd=tmp_path)
    assert _places(result) == ["app/views.py"]
    assert result["summary"]["tests_not_checked"] == 2  # type: ignore[index]


def test_the_mypy_plugin_is_silent_in_test_modules_too(tmp_path: Path) -> None:
    reports = textwrap.dedent(SQLALCHEMY_PROJECT["shop/reports.py"])
    write(tmp_path, {**SQLALCHEMY_PROJECT, "shop/tests/__init__.py": "", "shop/tests/test_reports.py": reports})
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\n")
    found = {line.split(":")[0] for line in mypy(tmp_path, "shop")}
    assert found == {"shop/reports.py"}
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\ntests = check\n")
    found = {line.split(":")[0] for line in mypy(tmp_path, "shop")}
    assert found == {"shop/reports.py", "shop/tests/test_reports.py"}
    # `orm-lint check --tests check` over settings that skip them: the flag decides for mypy's findings too.
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\n")
    result = check_json("shop", "--tests", "check", cwd=tmp_path, mypy=True)
    mypy_findings = {f["path"] for f in result["findings"] if f["engine"] == "mypy"}  # type: ignore
    assert mypy_findings == {"shop/reports.py", "shop/tests/test_reports.py"}
