"""The syntax-level checks, one module per topic; importing them registers them."""

from . import (  # noqa: F401
    evaluation,
    fetching,
    filters,
    indexes,
    integrity,
    loops,
    migrations,
    raw_sql,
    relations,
    schema,
    serializers,
    settings,
    unbounded,
)
