"""One `[tool.orm-lint]` table, read the same way by flake8, `orm-lint check` and the mypy plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from conftest import ROOT, check_json, run_flake8, run_orm_lint
from orm_lint.catalogue import Framework
from orm_lint.config import KEYS, Settings, load_settings
from orm_lint.config_docs import configuration_page

N_PLUS_ONE = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""
LEN_OF_QUERYSET = """\
from library.models import Book


def book_count():
    return len(Book.objects.filter(published=True))
"""
PAGED_VIEWS = """\
from django.http import JsonResponse

from library.models import Publisher
from library.paging import paged


def publisher_list(request):
    publishers = paged(Publisher.objects.all(), request)
    return JsonResponse({"results": [{"name": p.name} for p in publishers]})


def author_list(request):
    authors = Publisher.objects.all()
    return JsonResponse({"results": [{"name": a.name} for a in paged(authors, request)]})
"""
SQLALCHEMY_N_PLUS_ONE = """\
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


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


def order_emails(session: Session) -> list[str]:
    return [order.customer.email for order in session.scalars(select(Order))]
"""


def _codes_by_path(findings: list[dict[str, object]]) -> set[tuple[str, str]]:
    return {(str(f["path"]).removeprefix("./"), str(f["code"])) for f in findings}


# -- the documentation ---------------------------------------------------------------------
def test_configuration_doc_is_generated_from_the_table_of_keys() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == configuration_page(), (
        "docs/configuration.md is stale: run `orm-lint docs`"
    )
    attributes = {f.name for f in fields(Settings)} - {"source", "warnings"}
    assert {key.attribute for key in KEYS} == attributes, "every setting has exactly one documented key"
    page = configuration_page()
    for key in KEYS:
        assert f"| `{key.name}` |" in page


def test_documented_examples_are_valid_settings(tmp_path: Path) -> None:
    """The TOML and ini examples in docs/configuration.md load without a warning."""
    page = configuration_page()
    toml_blocks = re.findall(r"```toml\n(.*?)```", page, re.DOTALL)
    ini_block = re.search(r"```ini\n(.*?)```", page, re.DOTALL)
    assert len(toml_blocks) == 2 and ini_block
    (tmp_path / "pyproject.toml").write_text(toml_blocks[0] + "\n" + toml_blocks[1].replace("[[tool.", "[[tool."))
    rules = run_orm_lint("rules", "--format", "json", cwd=tmp_path)
    assert rules.returncode == 0 and rules.stderr == "", rules.stderr
    listed = {r["code"]: r for r in json.loads(rules.stdout)}
    assert listed["ORM901"]["name"] == "objects-all-in-billing" and "ORM902" in listed
    assert listed["ORM104"]["severity"] == "medium"  # the example's override
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "setup.cfg").write_text(ini_block.group(1))
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr


# -- per-path ignores ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "config",
    [
        ("pyproject.toml", '[tool.orm-lint]\nper-path-ignores = { "tests/*" = ["ORM1"], "*/legacy/*" = ["ORM"] }\n'),
        ("setup.cfg", "[orm-lint]\nper-path-ignores =\n    tests/*: ORM1\n    */legacy/*: ORM\n"),
    ],
    ids=["pyproject", "setup.cfg"],
)
def test_per_path_ignores_in_check_and_flake8(tmp_path: Path, write_module, config: tuple[str, str]) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    write_module(N_PLUS_ONE, "tests/test_services.py")
    write_module(N_PLUS_ONE, "app/legacy/old.py")
    write_module(config[1], config[0])
    expected = {("app/services.py", "ORM102")}
    assert _codes_by_path(check_json(".", cwd=tmp_path)["findings"]) == expected
    assert _codes_by_path(run_flake8(".", cwd=tmp_path)) == expected
    # Paths are relative to the configuration file, whatever folder the run starts in.
    assert _codes_by_path(run_flake8(".", cwd=tmp_path / "app")) == {("services.py", "ORM102")}
    assert check_json(".", cwd=tmp_path / "tests")["findings"] == []


def test_per_path_ignores_in_the_mypy_plugin(tmp_path: Path, write_module) -> None:
    write_module(SQLALCHEMY_N_PLUS_ONE, "shop.py")
    write_module(SQLALCHEMY_N_PLUS_ONE, "tests/test_shop.py")
    write_module("[mypy]\nplugins = orm_lint.mypy_plugin\n", "mypy.ini")
    # ORM102 off: mypy run alone reports the relation loads flake8 would otherwise report (docs/mypy.md)
    write_module(
        '[tool.orm-lint]\nignore = ["ORM102"]\nper-path-ignores = { "tests/*" = ["ORM110"] }\n', "pyproject.toml"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / ".cache"), "shop.py", "tests/test_shop.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    reported = [line.split(":")[0] for line in proc.stdout.splitlines() if "[orm-lazy-load-per-item]" in line]
    assert reported == ["shop.py"], proc.stdout + proc.stderr
    # orm-lint check runs mypy on a copy of the configuration; the plugin still reads the project's table.
    found = _codes_by_path(check_json(".", cwd=tmp_path, mypy=True)["findings"])
    assert found == {("shop.py", "ORM110")}


# -- severity overrides ----------------------------------------------------------------------
def test_severity_overrides_reach_every_output(tmp_path: Path, write_module) -> None:
    write_module(LEN_OF_QUERYSET, "stats.py")
    write_module('[tool.orm-lint]\nseverity = { ORM104 = "medium", ORM1 = "critical" }\n', "pyproject.toml")
    data = check_json(".", cwd=tmp_path)
    [finding] = data["findings"]
    assert (finding["code"], finding["severity"], finding["priority"]) == ("ORM104", "medium", "P2")
    assert data["summary"]["by_severity"] == {"critical": 0, "high": 0, "medium": 1, "low": 0}
    text = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path).stdout
    assert text.splitlines()[-1] == "orm-lint: 1 finding in 1 file (1 medium)"
    rules = {r["code"]: r for r in json.loads(run_orm_lint("rules", "--format", "json", cwd=tmp_path).stdout)}
    assert rules["ORM104"]["severity"] == "medium"
    assert rules["ORM101"]["severity"] == "critical"  # the longest matching prefix wins
    assert rules["ORM201"]["severity"] == "critical"  # not overridden: its own
    assert rules["ORM105"]["severity"] == "critical"


# -- the other keys --------------------------------------------------------------------------
def test_pagination_helpers_bound_a_list_endpoint(tmp_path: Path, write_module) -> None:
    write_module(PAGED_VIEWS, "views.py")
    assert [f["line"] for f in check_json(".", cwd=tmp_path)["findings"]] == [8, 13]
    write_module('[tool.orm-lint]\npagination-helpers = ["paged"]\n', "pyproject.toml")
    assert check_json(".", cwd=tmp_path)["findings"] == []
    assert run_flake8(".", cwd=tmp_path) == []


def test_frameworks_and_tenant_column_are_checked_and_stored(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "services.py")
    settings = '[tool.orm-lint]\nframeworks = ["django", "Flask-SQLAlchemy"]\ntenant-column = "org_id"\n'
    write_module(settings, "pyproject.toml")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    stored = load_settings(tmp_path)
    assert stored.frameworks == (Framework.DJANGO, Framework.FLASK_SQLALCHEMY)
    assert stored.tenant_column == "org_id"


@pytest.mark.parametrize(
    "line, complaint",
    [
        ('per-path-ignores = ["tests/*"]', "`per-path-ignores` must be a table"),
        ('per-path-ignores = { "tests/*" = ["E501"] }', "`per-path-ignores.tests/*` holds codes that are not orm-lint"),
        ('severity = { ORM104 = "urgent" }', "`severity.ORM104` must be one of critical, high, medium, low"),
        ('severity = { E501 = "low" }', "`severity` holds codes that are not orm-lint codes: E501"),
        ('frameworks = ["rails"]', "`frameworks` holds unknown frameworks rails"),
        ("pagination-helpers = 3", "`pagination-helpers` must be a list of strings"),
        ('tenant-column = "org id"', "`tenant-column` must be a column name"),
        ("jobs = true", "`jobs` must be a whole number"),
        ('rules = { code = "ORM901" }', "`rules` must be an array of tables"),
    ],
)
def test_a_wrong_value_fails_naming_the_key_and_the_file(
    tmp_path: Path, write_module, line: str, complaint: str
) -> None:
    write_module(N_PLUS_ONE, "services.py")
    write_module(f"[tool.orm-lint]\n{line}\n", "pyproject.toml")
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert f"pyproject.toml: {complaint}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_flake8_says_why_it_uses_the_defaults(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "services.py")
    write_module('[tool.orm-lint]\nseverity = { ORM104 = "urgent" }\nignore = ["ORM102"]\n', "pyproject.toml")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "ORM", "."],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert "pyproject.toml: `severity.ORM104` must be one of critical, high, medium, low; got 'urgent'" in proc.stderr
    assert proc.stderr.count("using default settings") == 1
    assert "ORM102" in proc.stdout  # the defaults: nothing ignored
