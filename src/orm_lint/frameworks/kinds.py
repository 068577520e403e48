"""Which framework a module's code belongs to, named as findings name it."""

from __future__ import annotations

DJANGO = "django"
SQLALCHEMY = "sqlalchemy"
SQLMODEL = "sqlmodel"
FLASK_SQLALCHEMY = "flask-sqlalchemy"
DBAPI = "dbapi"  # a database driver used directly (sqlite3, psycopg, ...)
FRAMEWORKS = (DJANGO, SQLALCHEMY, SQLMODEL, FLASK_SQLALCHEMY, DBAPI)
SQLALCHEMY_FAMILY = frozenset({SQLALCHEMY, SQLMODEL, FLASK_SQLALCHEMY})

# The root of an imported module -> the framework its code is written for.
FRAMEWORK_BY_MODULE_ROOT = {
    "django": DJANGO,
    "rest_framework": DJANGO,
    "sqlalchemy": SQLALCHEMY,
    "alembic": SQLALCHEMY,
    "sqlmodel": SQLMODEL,
    "flask_sqlalchemy": FLASK_SQLALCHEMY,
    "sqlite3": DBAPI,
    "psycopg": DBAPI,
    "psycopg2": DBAPI,
    "pymysql": DBAPI,
    "MySQLdb": DBAPI,
    "aiosqlite": DBAPI,
    "asyncpg": DBAPI,
}


def family(framework: str | None) -> str | None:
    """`django`, `sqlalchemy` (SQLModel and Flask-SQLAlchemy are SQLAlchemy underneath) or `dbapi`."""
    return SQLALCHEMY if framework in SQLALCHEMY_FAMILY else framework


def framework_of(imported: set[str] | frozenset[str]) -> str | None:
    """The one framework a module's imports (dotted names) show, the most specific of its family; None if
    they show none, or two families (a module that uses Django and SQLAlchemy side by side)."""
    found = {FRAMEWORK_BY_MODULE_ROOT[m.split(".")[0]] for m in imported if m.split(".")[0] in FRAMEWORK_BY_MODULE_ROOT}
    orms = found - {DBAPI}
    if not orms:
        return DBAPI if found else None
    if len({family(f) for f in orms}) > 1:
        return None
    for specific in (SQLMODEL, FLASK_SQLALCHEMY, SQLALCHEMY, DJANGO):
        if specific in orms:
            return specific
    return None
