"""How models declare relations, columns, foreign keys and indexes (call and keyword names)."""

from __future__ import annotations

RELATIONSHIP_CALLS = frozenset({"relationship", "Relationship", "relation"})
COLUMN_CALLS = frozenset({"mapped_column", "Column", "Field", "deferred"})
FOREIGN_KEY_CALL = "ForeignKey"
DJANGO_FOREIGN_KEYS = frozenset({"ForeignKey", "OneToOneField"})
DJANGO_MANY_TO_MANY = "ManyToManyField"
TABLE_INDEXES = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})
DJANGO_META_INDEXES = frozenset({"Index", "UniqueConstraint"})

LAZY_STRATEGIES = frozenset({"select", "True"})
RAISING_STRATEGIES = frozenset({"raise", "raise_on_sql"})
# Base classes that come from the frameworks themselves: they add no column and no constraint.
MODEL_ROOT_BASES = frozenset(
    {"Model", "Base", "DeclarativeBase", "DeclarativeBaseNoMeta", "SQLModel", "MappedAsDataclass", "AsyncAttrs"}
)


def django_relation_field(name: str) -> str | None:
    """The Django relation a field class declares, counting third-party subclasses by their names:
    `TreeForeignKey` and `ParentalKey` are foreign keys, `SortedManyToManyField` a many-to-many."""
    if name.endswith("ManyToManyField"):
        return DJANGO_MANY_TO_MANY
    if name.endswith("OneToOneField"):
        return "OneToOneField"
    if (name.endswith("ForeignKey") and name != "GenericForeignKey") or name == "ParentalKey":
        return "ForeignKey"
    return None
