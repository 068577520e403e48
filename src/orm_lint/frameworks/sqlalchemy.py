"""SQLAlchemy 2.x, legacy Query, SQLModel and Flask-SQLAlchemy API facts."""

from __future__ import annotations

import re

# Session methods that send SQL when called.
SESSION_QUERY_METHODS = frozenset({"get", "get_one", "execute", "scalars", "scalar", "exec", "merge", "refresh"})
SESSION_FLUSH_METHODS = frozenset({"commit", "flush"})
# Flask-SQLAlchemy's `db` helpers that query.
DB_QUERY_HELPERS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})

# Legacy `Query` and `Result` methods that run the statement.
QUERY_TERMINAL_METHODS = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "count",
        "get",
        "first_or_404",
        "get_or_404",
        "one_or_404",
        "delete",
        "update",
        "exists",
        "paginate",
    }
)
# Methods of Select / Query that return another statement (nothing runs yet).
STATEMENT_METHODS = frozenset(
    {
        "where",
        "filter",
        "filter_by",
        "order_by",
        "group_by",
        "having",
        "join",
        "outerjoin",
        "options",
        "limit",
        "offset",
        "distinct",
        "select_from",
        "execution_options",
        "slice",
        "with_only_columns",
        "add_columns",
        "correlate",
        "params",
    }
)
# Result methods that unwrap rows into entities or lists.
RESULT_METHODS = frozenset({"scalars", "all", "unique", "partitions", "fetchall", "yield_per"})

SELECT_FUNCTIONS = frozenset({"select"})
# Session / Flask-SQLAlchemy `db` calls that run a statement and yield its entities.
ITEM_RUNNERS = frozenset({"scalars", "exec", "scalar", "paginate", "one_or_404", "first_or_404"})
# Session / `db` calls that load one object by primary key.
SESSION_GETTERS = frozenset({"get", "get_one", "get_or_404"})


def is_session_name(name: str) -> bool:
    """`session`, `db.session`, `self.db_session`, Flask-SQLAlchemy's `db`."""
    return name.lower().endswith("session") or name == "db"


LOADER_OPTIONS = frozenset(
    {
        "joinedload",
        "selectinload",
        "subqueryload",
        "contains_eager",
        "immediateload",
        "raiseload",
        "noload",
        "lazyload",
        "defaultload",
        "Load",
    }
)
BOUNDING_METHODS = frozenset({"limit", "slice", "paginate", "first", "one", "one_or_none", "scalar_one"})
TEXT_FUNCTION = "text"
RANDOM_FUNCTIONS = frozenset({"random", "rand"})
FILTER_METHODS = frozenset({"where", "filter", "having"})
BOOLEAN_FUNCTIONS = frozenset({"and_", "or_"})


def snake_case(name: str) -> str:
    """`OrderLine` -> `order_line`: Flask-SQLAlchemy's default table name for a model class."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
