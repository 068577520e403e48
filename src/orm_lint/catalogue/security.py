"""Security rules (ORM2xx): SQL injection through SQL text built from strings."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, Category, Docs, Engine, Rule, Severity

SQL_BUILT_FROM_STRINGS = Rule(
    code="ORM201",
    name="sql-built-from-strings",
    problem="raw_sql",
    category=Category.SECURITY,
    severity=Severity.CRITICAL,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="SQL text built with an f-string, `%`, `.format()` or `+` reaches the database.",
    message="SQL passed to {sink} is built with {how} from {value}; pass it as a bound parameter",
    docs=Docs(
        what_it_does=(
            "Follows SQL text built with an f-string, `%`, `.format()`, `+` or `join` "
            "(directly or through a local variable) into `cursor.execute/executemany`, "
            "`Manager.raw`, `QuerySet.extra`, `RawSQL`, `sqlalchemy.text`, "
            "`session/connection.execute` and `exec_driver_sql`. It stays silent when "
            "every formatted value is trusted: constants, `UPPER_CASE` settings, numbers "
            "from `int()`/`len()`, placeholder lists such as `', '.join(['%s'] * n)`, "
            "quoted identifiers and the ORM's own table names."
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
)

RULES = (SQL_BUILT_FROM_STRINGS,)
