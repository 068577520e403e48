"""The mypy plugin through real mypy runs on whole projects (cases per rule are in tests/typecheck)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import MYPY_ALONE, SHARED, run_flake8, run_orm_lint
from orm_lint.catalogue import RULES, RULES_BY_CODE, Engine

MYPY_RULES = [r for r in RULES if r.engine is Engine.MYPY]
ORM_LINE = re.compile(r"\[orm-[a-z-]+\]$")


def mypy(folder: Path, *args: str, plugins: str = "orm_lint.mypy_plugin", extra: str = "") -> list[str]:
    """Run mypy in `folder` with a config naming `plugins`; the output lines, summary dropped."""
    config = folder / "mypy.ini"
    config.write_text(f"[mypy]\nplugins = {plugins}\n{textwrap.dedent(extra)}", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--no-error-summary",
            "--cache-dir",
            str(folder / ".cache"),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stdout.splitlines() if line.strip()]


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def every_bad_example(folder: Path, choice: str) -> list[str]:
    """Each mypy rule's bad example in a file of its own, checked with `choice` (a select/ignore line)."""
    write(folder, {f"bad_{r.code}.py": r.bad_example for r in MYPY_RULES})
    settings = "".join(f"{r.example_settings}\n" for r in MYPY_RULES if r.example_settings)
    (folder / "pyproject.toml").write_text(f"[tool.orm-lint]\n{settings}{choice}\n", encoding="utf-8")
    found = mypy(folder, *(f"bad_{r.code}.py" for r in MYPY_RULES))
    return sorted(f"{line.split('.py:')[0]} {line.rsplit('[', 1)[1]}" for line in found)


@pytest.mark.parametrize("rule", MYPY_RULES, ids=lambda r: r.code)
def test_catalogue_examples_through_mypy_and_selecting_only_that_rule(rule, tmp_path: Path) -> None:
    """The bad example reports its rule, the good one nothing; `select` of one rule keeps only that one."""
    assert every_bad_example(tmp_path, f'select = ["{rule.code}"]') == [f"bad_{rule.code} orm-{rule.name}]"]
    write(tmp_path, {"good.py": rule.good_example})
    assert mypy(tmp_path, "good.py") == []


@pytest.mark.parametrize("rule", MYPY_RULES, ids=lambda r: r.code)
def test_ignoring_one_rule_leaves_the_others_on(rule, tmp_path: Path) -> None:
    """One gate per rule: ignoring one (ORM110, say) must not switch off another (ORM510, ORM111).

    ORM102 is off too: ORM110's bad example is also ORM102's, which plain mypy leaves to flake8.
    """
    expected = sorted(f"bad_{r.code} orm-{r.name}]" for r in MYPY_RULES if r is not rule)
    assert every_bad_example(tmp_path, f'ignore = ["ORM102", "{rule.code}"]') == expected


DJANGO_PROJECT = {
    "shelf/__init__.py": "",
    "shelf/settings.py": """\
        SECRET_KEY = "test"
        INSTALLED_APPS = ["shelf"]
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        """,
    "shelf/models.py": """\
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=100)


        class Book(models.Model):
            title = models.CharField(max_length=200)
            author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
            editor = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False, related_name="+")
            reviewer = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False, related_name="+")
            translator = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False, related_name="+")

            class Meta:
                indexes = [models.Index(fields=["reviewer", "title"]), models.Index("translator", name="bt")]
        """,
    "shelf/services.py": """\
        from shelf.models import Author, Book


        def titles() -> list[str]:
            return [b.author.name for b in Book.objects.all()]


        def typo() -> int:
            book = Book.objects.get(pk=1)
            return book.pages  # a type error that django-stubs reports


        def managers() -> list[int]:
            return [a.books.count() for a in Author.objects.all()] + [Book.objects.none()]
        """,
}
DJANGO_SETTINGS = """\
    [mypy.plugins.django-stubs]
    django_settings_module = shelf.settings
    """


def test_django_findings_and_django_stubs_output_unchanged(tmp_path: Path) -> None:
    write(tmp_path, DJANGO_PROJECT)
    alone = mypy(tmp_path, "shelf", plugins="mypy_django_plugin.main", extra=DJANGO_SETTINGS)
    both = mypy(
        tmp_path,
        "shelf",
        plugins="orm_lint.mypy_plugin, mypy_django_plugin.main",
        extra=textwrap.dedent(DJANGO_SETTINGS) + MYPY_ALONE,
    )
    assert [line for line in both if not ORM_LINE.search(line)] == alone
    assert any('has no attribute "pages"' in line for line in alone), "the project has django-stubs errors"
    ours = [line for line in both if ORM_LINE.search(line)]
    assert ours == [
        "shelf/services.py:5: error: b.author is lazily loaded once per item of this loop (related object); "
        'add select_related("author") to the query  [orm-lazy-load-per-item]',
    ]


def test_wrong_plugin_order_is_said_once(tmp_path: Path) -> None:
    write(tmp_path, DJANGO_PROJECT)
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nplugins = mypy_django_plugin.main, orm_lint.mypy_plugin\n" + textwrap.dedent(DJANGO_SETTINGS)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "shelf"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.stderr.count("list orm_lint.mypy_plugin before mypy_django_plugin.main") == 1


SQLALCHEMY_PROJECT = {
    "shop/__init__.py": "",
    "shop/models.py": """\
        from __future__ import annotations
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


        class Base(DeclarativeBase):
            pass


        class Customer(Base):
            __tablename__ = "customers"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]


        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
            customer: Mapped[Customer] = relationship(lazy="select")
            auditor: Mapped[Customer] = relationship(lazy="raise", viewonly=True)
        """,
    "shop/reports.py": """\
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from shop.models import Order


        def names(session: Session) -> list[str]:
            return [o.customer.name for o in session.scalars(select(Order))]


        def auditors(session: Session) -> list[str]:
            return [o.auditor.name for o in session.scalars(select(Order))]
        """,
    "shop/unrelated.py": "VALUE = 1\n",
}


def test_same_output_cold_warm_after_unrelated_edit_and_lazy_change(tmp_path: Path) -> None:
    write(tmp_path, SQLALCHEMY_PROJECT)
    cold = mypy(tmp_path, "shop", extra=MYPY_ALONE)
    assert [line.split(":")[0:2] for line in cold] == [["shop/reports.py", "8"], ["shop/reports.py", "12"]]
    assert mypy(tmp_path, "shop", extra=MYPY_ALONE) == cold
    (tmp_path / "shop/unrelated.py").write_text("VALUE = 2\n")
    assert mypy(tmp_path, "shop", extra=MYPY_ALONE) == cold
    # models from the cache, errors replayed
    assert mypy(tmp_path, "shop/reports.py", "shop/unrelated.py", extra=MYPY_ALONE) == cold
    shutil.rmtree(tmp_path / ".cache")
    assert mypy(tmp_path, "shop", "--num-workers", "2", extra=MYPY_ALONE) == cold  # mypy's parallel mode
    models = tmp_path / "shop/models.py"
    models.write_text(models.read_text().replace('lazy="select"', 'lazy="selectin"'))
    assert mypy(tmp_path, "shop", extra=MYPY_ALONE) == cold[1:]
    # The same project with ORM102 on (the default): its relation load is flake8's, a settings change mypy's cache sees.
    assert mypy(tmp_path, "shop") == cold[1:]
    models.write_text(models.read_text().replace('lazy="selectin"', 'lazy="select"'))
    assert mypy(tmp_path, "shop") == cold[1:]


def test_flake8_and_mypy_side_by_side_give_one_finding_per_place(tmp_path: Path) -> None:
    """A team running both tools sees each relation load once, as `orm-lint check` shows it after merging."""
    write(tmp_path, SQLALCHEMY_PROJECT)
    # deferred-column-per-item: a rule of the type engine alone
    (tmp_path / "shop/articles.py").write_text(RULES_BY_CODE["ORM111"].bad_example, encoding="utf-8")
    flake8 = [f"{f['path']}:{f['line']} {f['code']}" for f in run_flake8("shop", cwd=tmp_path)]
    typed = [f"{line.split(': error')[0]} {line.rsplit('[', 1)[1]}" for line in mypy(tmp_path, "shop")]
    assert flake8 == ["shop/models.py:19 ORM301", "shop/reports.py:8 ORM102"]
    # mypy keeps what flake8 does not see: a deferred column per item, a lazy="raise" relation read unloaded.
    assert typed == [
        "shop/articles.py:18 orm-deferred-column-per-item]",
        "shop/reports.py:12 orm-lazy-load-that-raises]",
    ]
    checked = run_orm_lint("check", "shop", "--format", "json", cwd=tmp_path)
    merged = sorted(f"{f['path']}:{f['line']}" for f in json.loads(checked.stdout)["findings"])
    assert merged == sorted(place.split()[0] for place in flake8 + typed)


def test_error_codes_can_be_disabled_one_by_one_or_all(tmp_path: Path) -> None:
    write(tmp_path, SQLALCHEMY_PROJECT)
    one = mypy(tmp_path, "shop", "--disable-error-code", "orm-lazy-load-per-item")
    assert [line.rsplit("[", 1)[1] for line in one] == ["orm-lazy-load-that-raises]"]
    assert mypy(tmp_path, "shop", "--disable-error-code", "orm") == []


def test_no_plugin_no_findings(tmp_path: Path) -> None:
    write(tmp_path, SQLALCHEMY_PROJECT)
    assert mypy(tmp_path, "shop", plugins="") == []


SCORER = SHARED / "tools" / "acceptance_score.py"


@pytest.mark.skipif(not SCORER.is_file(), reason=f"acceptance corpus not found at {SHARED}")
@pytest.mark.parametrize(
    "selection", [["--types", "yes"], ["--problems", "fk_no_index"], []], ids=["types", "fk", "all"]
)
def test_acceptance_corpus_with_mypy(selection: list[str]) -> None:
    import json

    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [sys.executable, str(SCORER), "--json", *selection], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    score = json.loads(proc.stdout.splitlines()[-1])
    assert score["fp"] == 0
    assert score["recall"] >= 0.9


def test_settings_select_and_ignore_rules(tmp_path: Path) -> None:
    write(tmp_path, SQLALCHEMY_PROJECT)
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM110\n")
    assert [line.rsplit("[", 1)[1] for line in mypy(tmp_path, "shop")] == ["orm-lazy-load-that-raises]"]
    (tmp_path / "setup.cfg").write_text("[orm-lint]\nignore = ORM102\n")  # mypy run alone: nothing left to flake8
    assert len(mypy(tmp_path, "shop")) == 2


TENANT_PROJECT = {
    "billing/__init__.py": "",
    "billing/models.py": """\
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Invoice(Base):
            __tablename__ = "invoices"
            id: Mapped[int] = mapped_column(primary_key=True)
            account_id: Mapped[int] = mapped_column(index=True)
            total: Mapped[int]


        class Currency(Base):
            __tablename__ = "currencies"
            code: Mapped[str] = mapped_column(primary_key=True)
        """,
    "billing/queries.py": """\
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from billing.models import Currency, Invoice


        def leaks(session: Session, pk: int) -> Invoice | None:
            return session.scalars(select(Invoice).where(Invoice.id == pk)).first()


        def legacy_count(session: Session) -> int:
            return session.query(Invoice).count()


        def scoped(session: Session, account_id: int, pk: int) -> Invoice | None:
            stmt = select(Invoice).where(Invoice.id == pk)
            stmt = stmt.where(Invoice.account_id == account_id)
            return session.scalars(stmt).first()


        def for_the_caller() -> object:
            return select(Invoice)


        def shared_table(session: Session) -> list[str]:
            return [c.code for c in session.scalars(select(Currency))]


        def reviewed(session: Session) -> int:
            return session.query(Invoice).count()  # type: ignore[orm-query-without-tenant-filter]


        def fetch_then_authorise(session: Session, pk: int, account_id: int) -> Invoice:
            invoice = session.get(Invoice, pk)
            invoice = session.scalars(select(Invoice).where(Invoice.id == pk)).one()
            if invoice.account_id != account_id:
                raise PermissionError(pk)
            return invoice


        def object_in_hand(session: Session, other: Invoice) -> Invoice | None:
            return session.scalars(select(Invoice).where(Invoice.id == other.id)).first()


        def admin_view(session: Session, user: object) -> list[int]:
            if getattr(user, "is_superuser", False) and user.is_superuser:  # type: ignore[attr-defined]
                return [i.total for i in session.scalars(select(Invoice))]
            return []
        """,
}


def test_tenant_filter_is_opt_in_and_precise(tmp_path: Path) -> None:
    write(tmp_path, TENANT_PROJECT)
    assert mypy(tmp_path, "billing") == []
    (tmp_path / "pyproject.toml").write_text('[tool.orm-lint]\ntenant-column = "account_id"\n')
    found = mypy(tmp_path, "billing")
    assert [line.split(": error")[0] for line in found] == ["billing/queries.py:8", "billing/queries.py:12"]
    assert found[0].endswith(
        "reads Invoice rows without filtering on account_id; filter on account_id "
        "(or mark a deliberate cross-tenant read with a type: ignore)  [orm-query-without-tenant-filter]"
    )


def test_check_passes_the_project_settings_to_its_mypy_run(tmp_path: Path) -> None:
    write(tmp_path, TENANT_PROJECT)
    (tmp_path / "pyproject.toml").write_text('[tool.orm-lint]\ntenant-column = "account_id"\n[tool.mypy]\n')
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "billing", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    import json

    codes = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert codes.count("ORM202") == 2, proc.stdout + proc.stderr
