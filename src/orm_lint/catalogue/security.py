"""Security rules (ORM2xx): SQL injection through SQL text built from strings."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, Category, Docs, Engine, Example, Framework, Rule, Severity

SQL_BUILT_FROM_STRINGS = Rule(
    code="ORM201",
    name="sql-built-from-strings",
    problem="raw_sql",
    category=Category.SECURITY,
    severity=Severity.CRITICAL,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="SQL text built with an f-string, `%`, `.format()` or `+` reaches the database.",
    message="SQL passed to {sink} is built with {how} from {value} ({origin}); pass it as a bound parameter",
    docs=Docs(
        what_it_does=(
            "Follows SQL text built with an f-string, `%`, `.format()`, `+` or `join` "
            "(directly or through a local variable) into `cursor.execute/executemany`, "
            "`Manager.raw`, `QuerySet.extra`, `RawSQL`, `sqlalchemy.text`, "
            "`session/connection.execute` and `exec_driver_sql`. It stays silent when "
            "every formatted value is trusted: constants, `UPPER_CASE` settings, numbers "
            "from `int()`/`len()`, placeholder lists such as `', '.join(['%s'] * n)`, "
            "quoted identifiers, the ORM's own table names and the connection's own dialect text "
            "(`db.timestamp_now` inside `db.execute(...)`). Request data is never trusted, "
            "whatever it is called: Django `request.GET/POST/COOKIES/META/FILES/headers/body` "
            "and URL captures, DRF `request.data/query_params`, Flask `request.args/form/values/"
            "json/get_json()/cookies/headers/view_args`, FastAPI and Starlette handler parameters "
            "and `request.query_params/path_params`, the message a Django Channels consumer "
            "receives (and the event its channel layer hands on to a handler), files a client uploaded, and anything derived from them (subscripts, "
            "`.get()`, string methods, f-strings, helpers that return them, parameters that every "
            "caller in the module fills with them); it is reported even "
            "in DDL. The severity follows the value's origin: request data critical, a value the "
            "caller passes in high, a value read from the database medium."
        ),
        why_bad=(
            "A value that comes from outside (a request, a file, a message) becomes part "
            "of the SQL statement: a quote in it changes the statement. That is SQL "
            "injection, the classic way data is stolen or destroyed."
        ),
        fix_steps=(
            "Keep the SQL text constant and put a placeholder where the value goes: "
            "`%s` for DB-API/Django, `:name` for `text()`.",
            "Pass the values separately: `cursor.execute(sql, [value])`, "
            '`Model.objects.raw(sql, [value])`, `session.execute(text(sql), {"name": value})`.',
            "For identifiers (table or column names) choose from a fixed set of constants, "
            "or quote them with `connection.ops.quote_name()`.",
        ),
        how_to_test=(
            "Call the code with a value such as `x' OR '1'='1` and assert it matches nothing; "
            "assert the value shows up among the statement's parameters, never in its text."
        ),
        references=(
            "https://owasp.org/www-community/attacks/SQL_Injection",
            "https://docs.djangoproject.com/en/stable/topics/db/sql/#passing-parameters-into-raw",
            "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text",
        ),
    ),
    bad_example="""\
from django.db import connection


def titles_like(term):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT title FROM library_book WHERE title LIKE '%{term}%'")
        return cursor.fetchall()
""",
    good_example="""\
from django.db import connection


def titles_like(term):
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM library_book WHERE title LIKE %s", [f"%{term}%"])
        return cursor.fetchall()
""",
    more_examples=(
        Example(
            framework=Framework.SQLALCHEMY,
            bad="""\
from sqlalchemy import text
from sqlalchemy.orm import Session


def orders_with_status(session: Session, status):
    sql = text("SELECT id FROM orders WHERE status = '{}'".format(status))
    return session.execute(sql).all()
""",
            good="""\
from sqlalchemy import text
from sqlalchemy.orm import Session


def orders_with_status(session: Session, status):
    sql = text("SELECT id FROM orders WHERE status = :status")
    return session.execute(sql, {"status": status}).all()
""",
        ),
    ),
)

QUERY_WITHOUT_TENANT_FILTER = Rule(
    code="ORM202",
    name="query-without-tenant-filter",
    problem="tenant_isolation",
    category=Category.SECURITY,
    severity=Severity.HIGH,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.MYPY,
    summary="A query reads a tenant-owned model without filtering on the tenant column (opt-in).",
    message="{query} reads {model} rows without filtering on {column}; {fix}",
    docs=Docs(
        what_it_does=(
            'Opt-in: with `tenant-column = "account_id"` in `[tool.orm-lint]`, reports a '
            "`select(Model)`, `session.query(Model)` or `Model.objects` query on a model that "
            "has that column (or a foreign key named after it) when the query run in the "
            "function never filters on it. A query returned to the caller or handed to another "
            "function is left alone: the filter may be added there."
        ),
        why_bad=(
            "In a multi-tenant application every read of tenant data must be scoped to the "
            "current tenant. One forgotten filter shows one customer's rows to another."
        ),
        fix_steps=(
            "Filter on the tenant: `.where(Model.account_id == account_id)` / `.filter(account=request.account)`.",
            "Better, route reads through a helper or manager that always applies the filter, "
            "and mark the rare cross-tenant query with `# type: ignore[orm-query-without-tenant-filter]`.",
        ),
        how_to_test="Create rows for two tenants and assert the code returns only the current tenant's rows.",
        references=("https://owasp.org/Top10/A01_2021-Broken_Access_Control/",),
    ),
    bad_example="""\
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    total: Mapped[int]


def invoice_totals(session: Session, account_id: int) -> list[int]:
    return [i.total for i in session.scalars(select(Invoice))]
""",
    good_example="""\
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    total: Mapped[int]


def invoice_totals(session: Session, account_id: int) -> list[int]:
    stmt = select(Invoice).where(Invoice.account_id == account_id)
    return [i.total for i in session.scalars(stmt)]
""",
    example_settings='tenant-column = "account_id"',
)

RULES = (SQL_BUILT_FROM_STRINGS, QUERY_WITHOUT_TENANT_FILTER)
