"""Indexes the project's queries ask for (project.index_advice), reported where the model is declared."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from ...catalogue.schema import JSON_KEY_FILTER_WITHOUT_INDEX, QUERY_WITHOUT_INDEX
from ...project.model_facts import ModelFacts
from ...project.statements import named_assignment
from ..registry import Report, check
from ..scope import ModuleIndex

_PLACES_NAMED = 3
_DJANGO_INDEX_NAME = 30  # Django refuses longer index names


@check(QUERY_WITHOUT_INDEX, JSON_KEY_FILTER_WITHOUT_INDEX, runs_on_tests=False)
def indexes_the_queries_ask_for(index: ModuleIndex) -> Iterator[Report]:
    """query-without-index and json-key-filter-without-index: at the model the project's queries read."""
    for cls in index.tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        model = index.project.model(cls.name)
        if model is None or model.module != index.project.near:
            continue
        for advice in model.asked_indexes:
            columns = list(advice["columns"])
            yield Report(
                QUERY_WITHOUT_INDEX,
                cls,
                {
                    "model": cls.name,
                    "columns": f"({', '.join(columns)})",
                    "count": count_places(advice["places"]),
                    "places": describe_places(advice["places"]),
                    "fix": index_fix(model, columns),
                },
                end_node=cls.bases[-1] if cls.bases else None,
                lowered_by=0 if advice["severity"] == "medium" else 1,
                model=cls.name,
                attribute=", ".join(columns),
                operation="filter",
            )
        for used in model.json_key_filters:
            column, key = str(used["column"]), ".".join(used["key"])
            yield Report(
                JSON_KEY_FILTER_WITHOUT_INDEX,
                _declaration(cls, column),
                {
                    "column": f"{cls.name}.{column}",
                    "key": repr(key),
                    "count": count_places(used["places"]),
                    "places": describe_places(used["places"]),
                    "fix": _json_fix(model, column, list(used["key"])),
                },
                model=cls.name,
                attribute=column,
                operation="filter",
            )


def count_places(places: list[list[Any]]) -> str:
    return "1 place" if len(places) == 1 else f"{len(places)} places"


def describe_places(places: list[list[Any]]) -> str:
    """`shop/views.py:12 order_page, shop/api.py:40 orders and 3 more`."""
    named = [f"{path}:{line}" + (f" {function}" if function else "") for path, line, function, _ in places]
    more = len(named) - _PLACES_NAMED
    return ", ".join(named[:_PLACES_NAMED]) + (f" and {more} more" if more > 0 else "")


def index_fix(model: ModelFacts, columns: list[str]) -> str:
    """The declaration and the safe migration step for an advised index."""
    if model.framework == "django":
        name = f"{model.name.lower()}_{'_'.join(columns)}"[: _DJANGO_INDEX_NAME - 4] + "_idx"
        return (
            f'add models.Index(fields={columns!r}, name="{name}") to Meta.indexes '
            "and create it with AddIndexConcurrently"
        )
    table = model.table or model.name.lower()
    if len(columns) == 1:
        declared = f"index=True to {model.name}.{columns[0]}"
    else:
        listed = ", ".join(f"{model.name}.{column}" for column in columns)
        declared = f'Index("ix_{table}_{"_".join(columns)}", {listed}) to __table_args__'
    return f"add {declared} and create it with op.create_index(..., postgresql_concurrently=True)"


def _json_fix(model: ModelFacts, column: str, keys: list[str]) -> str:
    if model.framework == "django":
        name = f"{model.name.lower()}_{'_'.join(keys)}"[: _DJANGO_INDEX_NAME - 4] + "_idx"
        return (
            f'add models.Index(KeyTextTransform("{keys[-1]}", "{column}"), name="{name}") to Meta.indexes, '
            f"or filter with {column}__contains and a GinIndex"
        )
    path = "".join(f'["{key}"]' for key in keys)
    return (
        f'add Index("ix_{model.table or model.name.lower()}_{"_".join(keys)}", {model.name}.{column}{path}.astext) '
        'to __table_args__, or filter with contains() and an Index(..., postgresql_using="gin")'
    )


def _declaration(cls: ast.ClassDef, column: str) -> ast.AST:
    """The column's statement in the class body; the class when a base declares it."""
    return next((stmt for stmt in cls.body if named_assignment(stmt)[0] == column), cls)
