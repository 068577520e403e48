"""Which columns a Django lookup compares by equality, and whether they pick one row at most.

Shared by the rules that ask "can this match several rows?": a `get()` on a column no unique
constraint covers (non-unique-lookup), and a `count()` that could only ever be 0 or 1.
"""

from __future__ import annotations

import ast

from ..frameworks import django
from ..project import ProjectIndex
from ..project.columns import known_columns
from .queries import QueryShape, describe_query
from .scope import Scope

# Django lookups that return one object, and the keywords that are not conditions.
DJANGO_SINGLE_LOOKUPS = frozenset({"get", "get_or_create", "update_or_create"})
_NEUTRAL_STEPS = frozenset(
    {"all", "filter", "select_related", "prefetch_related", "only", "defer", "using", "select_for_update", "order_by"}
)


def django_shape_lookup(
    shape: QueryShape, keywords: list[list[ast.keyword]], args: list[ast.expr]
) -> tuple[str, set[str]] | None:
    steps = shape.steps[:-1] if shape.steps and shape.steps[-1].name in DJANGO_SINGLE_LOOKUPS else shape.steps
    if any(step.name not in _NEUTRAL_STEPS for step in steps):
        return None
    conditions = [step.call for step in shape.steps if step.name in DJANGO_SINGLE_LOOKUPS | {"filter"} and step.call]
    names = django_conditions(
        [*keywords, *(c.keywords for c in conditions)], [*args, *(a for c in conditions for a in c.args)]
    )
    return (str(shape.entity), names) if names is not None else None


def django_conditions(keyword_lists: list[list[ast.keyword]], args: list[ast.expr]) -> set[str] | None:
    """The fields compared by plain equality; None when any condition is something else (Q, `__in`, `**kw`)."""
    if args:
        return None
    names: set[str] = set()
    for keywords in keyword_lists:
        for keyword in keywords:
            if keyword.arg in django.NOT_CONDITIONS:
                continue
            if keyword.arg is None:
                return None
            field = keyword.arg.removesuffix("__exact")
            if django.LOOKUP_SEPARATOR in field:
                return None
            names.add(field)
    return names


def at_most_one_row(query: ast.expr, scope: Scope, project: ProjectIndex) -> bool:
    """`Identifier.objects.filter(barcode=x)` on a unique `barcode`: the query matches one row at most, so
    counting it costs what `exists()` costs. A base out of sight cannot undo a uniqueness the model declares."""
    shape = describe_query(query, scope)
    if shape is None or shape.framework != "django" or shape.entity is None:
        return False
    found = django_shape_lookup(shape, [], [])
    model = project.model(shape.entity)
    if found is None or model is None:
        return False
    known = known_columns(project, shape.entity)
    columns = known.columns if known is not None else frozenset(model.columns) | {"id", "pk"}
    unique = known.unique_sets if known is not None else [frozenset(u) for u in model.unique_sets]
    names = {django_field(name, columns) for name in found[1]}
    return bool(names) and any(u <= names for u in [*unique, frozenset({"id"}), frozenset({"pk"})])


def django_field(name: str, columns: frozenset[str]) -> str:
    field = name.removesuffix("_id")
    return field if name not in columns and field in columns else name
