"""The `orm-lint` pre-commit hook, run by the real pre-commit on a small git repository.

pre-commit installs a hook from a git repository at a commit. The checkout under test
may hold uncommitted work, so the package files are copied into a fresh repository and
committed there; pre-commit then builds its own environment from it (pip resolves
flake8 and the build backend through the machine's ordinary configuration).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SERVICES = """\
from django.db import connection

from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]


def find(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM book WHERE title = '{name}'")
        return cursor.fetchall()
"""
MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[Customer] = relationship()
"""
API = """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order


def order_emails(session: Session) -> list[str]:
    return [order.customer.email for order in session.scalars(select(Order))]
"""
# The mypy engine, as docs/editors-and-pre-commit.md tells users to turn it on.
MYPY_CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: orm-lint
        args: []
        additional_dependencies: ["mypy>=2.4,<2.5", "sqlalchemy>=2.0"]
"""


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=orm-lint tests", "-c", "user.email=tests@orm-lint.invalid", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _repository(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    _git("init", "-q", cwd=folder)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    _git("add", ".", cwd=folder)
    return folder


@pytest.fixture
def hook_repository(tmp_path: Path) -> Path:
    """A committed copy of what pre-commit installs: the hook manifest and the package."""
    repo = tmp_path / "orm-lint"
    repo.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "orm-lint under test", cwd=repo)
    return repo


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )


def test_try_repo_reports_our_codes_and_fails(tmp_path: Path, hook_repository: Path) -> None:
    project = _repository(tmp_path / "project", {"services.py": SERVICES, "notes.txt": "cursor.execute(f'{x}')\n"})
    proc = _pre_commit("try-repo", str(hook_repository), "orm-lint", "--all-files", cwd=project, home=tmp_path / "pc")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert re.search(r"^orm-lint\.+Failed$", output, re.MULTILINE), output
    assert "services.py:7:13: ORM102 b.author loads a related object" in output
    assert "services.py:12:9: ORM201 SQL passed to execute() is built with an f-string" in output
    assert "notes.txt" not in output  # `types: [python]`
    assert "orm-lint: 2 findings in 1 file" in output


def test_hook_with_the_mypy_engine_turned_on(tmp_path: Path, hook_repository: Path) -> None:
    rev = _git("rev-parse", "HEAD", cwd=hook_repository)
    config = MYPY_CONFIG.format(repo=hook_repository, rev=rev)
    files = {"models.py": MODELS, "api.py": API, ".pre-commit-config.yaml": config}
    project = _repository(tmp_path / "project", files)
    proc = _pre_commit("run", "--all-files", cwd=project, home=tmp_path / "pc")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    # The type-aware finding, reported once (the syntax engine's ORM102 at the same place is merged into it).
    assert "api.py:8:13: ORM110 order.customer is lazily loaded once per item of this loop" in output
    assert "ORM102" not in output
