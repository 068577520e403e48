"""How models declare relations, columns, foreign keys and indexes (call and keyword names)."""

from __future__ import annotations

RELATIONSHIP_CALLS = frozenset({"relationship", "Relationship", "relation"})
COLUMN_CALLS = frozenset({"mapped_column", "Column", "Field", "deferred"})
FOREIGN_KEY_CALL = "ForeignKey"
DJANGO_FOREIGN_KEYS = frozenset({"ForeignKey", "OneToOneField"})
DJANGO_MANY_TO_MANY = "ManyToManyField"
TABLE_INDEXES = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})
DJANGO_META_INDEXES = frozenset({"Index", "UniqueConstraint"})

# Loader strategies that do not issue one lazy SELECT per parent object.
NOT_LAZY_STRATEGIES = frozenset(
    {
        "joined",
        "selectin",
        "subquery",
        "immediate",
        "noload",
        "raise",
        "raise_on_sql",
        "write_only",
        "dynamic",
        "selectin_polymorphic",
        "False",
    }
)
LAZY_STRATEGIES = frozenset({"select", "True"})
RAISING_STRATEGIES = frozenset({"raise", "raise_on_sql"})
