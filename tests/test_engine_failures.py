"""When mypy cannot do its part, `orm-lint check` says why in one line and exits 2: real mypy, real files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import run_orm_lint

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"), index=True)
    author: Mapped[Author] = relationship()
"""
VIEWS = """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Book


def names(session: Session) -> list[int]:
    return [book.author.id for book in session.scalars(select(Book))]
"""
NOT_RUN = "orm-lint: the type-aware rules (ORM110, ORM111, ORM202, ORM510) did not run: "


def project(folder: Path, files: dict[str, str], mypy_ini: str = "[mypy]\n") -> Path:
    """A project with its own mypy configuration and orm-lint caches inside it."""
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": VIEWS, **files}
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "mypy.ini").write_text(textwrap.dedent(mypy_ini), encoding="utf-8")
    (folder / "pyproject.toml").write_text('[tool.orm-lint]\ncache-dir = ".cache"\n', encoding="utf-8")
    return folder


def check(folder: Path, *args: str) -> tuple[int, dict, str]:
    proc = run_orm_lint("check", "--format", "json", *args, cwd=folder)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_a_missing_installed_app_names_the_module_and_the_fix(tmp_path: Path) -> None:
    settings = 'SECRET_KEY = "x"\nINSTALLED_APPS = ["shelf", "compressor"]\n'
    files = {
        "shelf/__init__.py": "",
        "shelf/settings.py": settings,
        "shelf/models.py": "from django.db import models\n",
    }
    config = """\
        [mypy]
        plugins = mypy_django_plugin.main
        [mypy.plugins.django-stubs]
        django_settings_module = shelf.settings
        """
    project(tmp_path, files, config)
    proc = run_orm_lint("check", "shelf", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[-1] == (
        NOT_RUN + "django-stubs could not import the project's Django settings or models "
        "(ModuleNotFoundError: No module named 'compressor'); "
        "install the project's dependencies where orm-lint runs, or pass --no-mypy"
    )
    status, data, stderr = check(tmp_path, "shelf")
    assert status == 2 and data["engines"] == ["flake8"] and "No module named 'compressor'" in stderr
    assert data["not_run"][0]["rules"] == ["ORM110", "ORM111", "ORM202", "ORM510"]
    assert run_orm_lint("check", "shelf", "--mypy-optional", cwd=tmp_path).returncode == 0
    assert run_orm_lint("check", "shelf", "--no-mypy", cwd=tmp_path).returncode == 0


def test_an_imported_module_with_a_syntax_error_is_left_out_and_the_run_goes_on(tmp_path: Path) -> None:
    project(tmp_path, {"app/broken.py": "def thing(:\n    pass\n", "app/uses.py": "from app.broken import thing\n"})
    status, data, stderr = check(tmp_path, "app")  # the syntax engine saw it: mypy never follows into it
    assert status == 1 and data["engines"] == ["flake8", "mypy"]
    assert [(f["code"], f["engine"]) for f in data["findings"]] == [("ORM110", "mypy")]
    status, data, stderr = check(tmp_path, "app/uses.py", "app/views.py")  # found by mypy alone
    assert status == 1 and data["engines"] == ["flake8", "mypy"]
    assert "app/broken.py: mypy cannot parse the file (line 1: " in stderr or any(
        e["path"] == "app/broken.py" and e["message"].startswith("mypy cannot parse the file") for e in data["errors"]
    )


def test_a_corrupted_cache_is_cleared_once_and_said(tmp_path: Path) -> None:
    project(tmp_path, {})
    assert check(tmp_path, "app")[0] == 1
    databases = list((tmp_path / ".cache" / "mypy").rglob("cache*.db"))
    assert databases, "mypy's cache follows the cache-dir setting"
    for database in databases:
        database.write_text("not a database")
    proc = run_orm_lint("check", "app", cwd=tmp_path)
    assert proc.returncode == 1 and "ORM110" in proc.stdout
    [note] = [line for line in proc.stderr.splitlines() if "mypy's cache" in line]
    assert note.startswith("orm-lint: note: mypy's cache in ") and note.endswith(
        "was damaged (sqlite3.DatabaseError: file is not a database); orm-lint cleared it and retried"
    )
    assert run_orm_lint("check", "app", cwd=tmp_path).stderr == ""


def test_an_unwritable_cache_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    project(tmp_path, {})
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "mypy").write_text("a file where mypy's cache folder should be")
    status, data, stderr = check(tmp_path, "app")
    assert status == 2 and data["engines"] == ["flake8"]
    [line] = [line for line in stderr.splitlines() if line.startswith("orm-lint: error:")]
    assert "mypy cannot write its cache in" in line and "NotADirectoryError" in line
    assert line.endswith("make that folder writable or set `cache-dir` in [tool.orm-lint], or pass --no-mypy")


def test_a_link_to_a_parent_folder_does_not_loop(tmp_path: Path) -> None:
    project(tmp_path, {})
    (tmp_path / "app" / "loop").symlink_to(tmp_path, target_is_directory=True)
    status, data, _ = check(tmp_path, "app")
    assert status == 1 and data["engines"] == ["flake8", "mypy"]


def test_duplicate_module_names_are_one_line(tmp_path: Path) -> None:
    project(tmp_path, {"scripts/a/util.py": "x = 1\n", "scripts/b/util.py": "y = 1\n"})
    proc = run_orm_lint("check", "scripts", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[-1] == (
        NOT_RUN + 'mypy stopped: scripts/b/util.py: Duplicate module named "util" (also at "scripts/a/util.py"); '
        "add `__init__.py` files, exclude one of them or set mypy's explicit_package_bases, or pass --no-mypy"
    )


def test_only_the_files_asked_for_are_reported(tmp_path: Path) -> None:
    models = MODELS.replace(", index=True", "")  # ORM301 in models.py
    project(tmp_path, {"app/models.py": models})
    _, whole, _ = check(tmp_path, "app")
    assert {f["path"] for f in whole["findings"]} == {"app/models.py", "app/views.py"}
    _, one, _ = check(tmp_path, "app/views.py")
    assert {f["path"] for f in one["findings"]} == {"app/views.py"}


def test_noqa_silences_a_mypy_finding(tmp_path: Path) -> None:
    project(tmp_path, {"app/views.py": VIEWS.replace("select(Book))]", "select(Book))]  # noqa: ORM110")})
    status, data, _ = check(tmp_path, "app")
    assert status == 0 and data["findings"] == [] and "mypy" in data["engines"]
