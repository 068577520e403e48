"""The syntax-level checks, one module per topic; importing them registers them."""

from . import evaluation, filters, loops, migrations, raw_sql, relations, schema, serializers, unbounded  # noqa: F401
