"""Wasteful queryset evaluation: len(), truth tests, count() > 0, list(qs)[0], random order."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.performance import (
    COUNT_COMPARED_TO_ZERO,
    INDEX_INTO_EVALUATED_QUERY,
    LEN_OF_QUERYSET,
    QUERYSET_TRUTHINESS,
    RANDOM_ORDERING,
)
from ...frameworks import django, sqlalchemy
from ...project import ProjectIndex
from ..lookups import at_most_one_row
from ..queries import MATERIALIZERS, QueryShape, call_name, describe_query, unchain
from ..registry import Report, check
from ..render import short_call, source
from ..scope import ModuleIndex, Scope

_MATERIALIZING_CALLS = MATERIALIZERS | {"dict"}


def _lazy_django_queryset(expr: ast.expr, scope: Scope) -> QueryShape | None:
    """A Django QuerySet that has not been turned into a list."""
    values = [expr]
    if isinstance(expr, ast.Name):
        values = scope.values_of(expr.id) or []
        if not values:
            return None
    for value in values:
        if isinstance(value, ast.Call) and call_name(value) in _MATERIALIZING_CALLS:
            return None
    shape = describe_query(expr, scope)
    if shape is None or not shape.is_lazy_queryset:
        return None
    return shape


def only_counted_or_tested(name: str, scope: Scope) -> bool:
    """The queryset's rows are never used: it is only measured, tested or refined."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(scope.node):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    tests = {id(t) for t in scope.truth_tests}
    for node in ast.walk(scope.node):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(id(node))
        if id(node) in tests:
            continue
        if isinstance(parent, ast.Call) and call_name(parent) in {"len", "bool"} and parent.args == [node]:
            continue
        if isinstance(parent, ast.Attribute):
            continue  # qs.count(), qs.filter(...)
        if isinstance(parent, ast.BoolOp) and id(parent) in tests:
            continue
        return False
    return True


@check(LEN_OF_QUERYSET, runs_on_tests=False)
def len_of_queryset(index: ModuleIndex) -> Iterator[Report]:
    """len-of-queryset: `len(qs)` where `qs.count()` was meant."""
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            if not (isinstance(call.func, ast.Name) and call.func.id == "len" and len(call.args) == 1):
                continue
            arg = call.args[0]
            shape = _lazy_django_queryset(arg, scope)
            if shape is not None:
                if isinstance(arg, ast.Name) and not only_counted_or_tested(arg.id, scope):
                    continue
                name = arg.id if isinstance(arg, ast.Name) else short_call(arg)
                yield Report(
                    LEN_OF_QUERYSET,
                    call,
                    {"name": name, "fix": f"use {name}.count()"},
                    model=shape.entity,
                    operation="len",
                )
            elif (shape := _inline_sqlalchemy_all(arg, scope)) is not None:
                yield Report(
                    LEN_OF_QUERYSET,
                    call,
                    {"name": short_call(arg), "fix": "select func.count() instead"},
                    model=shape.entity,
                    operation="len",
                )


def _inline_sqlalchemy_all(expr: ast.expr, scope: Scope) -> QueryShape | None:
    if not (isinstance(expr, ast.Call) and call_name(expr) == "all" and not expr.args):
        return None
    shape = describe_query(expr, scope)
    return shape if shape is not None and shape.framework == "sqlalchemy" and not shape.is_bounded else None


def tested_for_truth(scope: Scope) -> list[ast.expr]:
    """Each expression the scope tests for truth (`if x`, `not x`, `a and x`, `bool(x)`), once."""
    tested: list[ast.expr] = []
    for test in scope.truth_tests:
        tested.extend(test.values if isinstance(test, ast.BoolOp) else [test])
    tested.extend(
        site.node.args[0]
        for site in scope.calls
        if isinstance(site.node.func, ast.Name) and site.node.func.id == "bool" and len(site.node.args) == 1
    )
    unique = {id(expr): expr for expr in tested}
    return list(unique.values())


@check(QUERYSET_TRUTHINESS, runs_on_tests=False)
def queryset_truthiness(index: ModuleIndex) -> Iterator[Report]:
    """queryset-truthiness: `if qs:` where `qs.exists()` was meant."""
    for scope in index.scopes:
        for expr in tested_for_truth(scope):
            if not isinstance(expr, (ast.Name, ast.Call)):
                continue
            shape = _lazy_django_queryset(expr, scope)
            if shape is None:
                continue
            if isinstance(expr, ast.Name) and not only_counted_or_tested(expr.id, scope):
                continue
            name = expr.id if isinstance(expr, ast.Name) else short_call(expr)
            yield Report(QUERYSET_TRUTHINESS, expr, {"name": name}, model=shape.entity, operation="bool")


_ZERO_TESTS = {
    (ast.Gt, 0),
    (ast.NotEq, 0),
    (ast.Eq, 0),
    (ast.GtE, 1),
    (ast.Lt, 1),
    (ast.LtE, 0),
}
_ZERO_TESTS_REVERSED = {(ast.Lt, 0), (ast.NotEq, 0), (ast.Eq, 0), (ast.LtE, 1), (ast.Gt, 1), (ast.GtE, 0)}


def _counted_query(expr: ast.expr, scope: Scope, project: ProjectIndex) -> QueryShape | None:
    """The query `expr` counts (`qs.count()`), unless it is limited (`.limit(1).count()` reads one row) or matches
    one row at most (a filter on a unique column: counting costs what `exists()` costs)."""
    if not (isinstance(expr, ast.Call) and call_name(expr) == "count" and not expr.args):
        return None
    if not isinstance(expr.func, ast.Attribute):
        return None
    shape = describe_query(expr.func.value, scope)
    if shape is None or shape.has_step(_LIMITING_METHODS) or at_most_one_row(expr.func.value, scope, project):
        return None
    return shape


_LIMITING_METHODS = frozenset({"limit", "slice"})


@check(COUNT_COMPARED_TO_ZERO, runs_on_tests=False)
def count_compared_to_zero(index: ModuleIndex) -> Iterator[Report]:
    """count-compared-to-zero: `qs.count() > 0` where `exists()` was meant."""
    for scope in index.scopes:
        for compare in scope.compares:
            if len(compare.ops) != 1:
                continue
            left, op, right = compare.left, type(compare.ops[0]), compare.comparators[0]
            shape = None
            if isinstance(right, ast.Constant) and (op, right.value) in _ZERO_TESTS:
                shape = _counted_query(left, scope, index.project)
            elif isinstance(left, ast.Constant) and (op, left.value) in _ZERO_TESTS_REVERSED:
                shape = _counted_query(right, scope, index.project)
            if shape is not None:
                yield Report(
                    COUNT_COMPARED_TO_ZERO, compare, {"expr": source(compare)}, model=shape.entity, operation="count"
                )


@check(INDEX_INTO_EVALUATED_QUERY)
def index_into_evaluated_query(index: ModuleIndex) -> Iterator[Report]:
    """index-into-evaluated-query: `list(qs)[0]` where `first()` was meant."""
    for scope in index.scopes:
        for subscript in scope.indexed_calls:
            key = subscript.slice
            if not (isinstance(key, ast.Constant) and isinstance(key.value, int)):
                if not (isinstance(key, ast.UnaryOp) and isinstance(key.operand, ast.Constant)):
                    continue
            call = subscript.value
            assert isinstance(call, ast.Call)
            name = call_name(call)
            if isinstance(call.func, ast.Name) and name in {"list", "tuple"} and len(call.args) == 1:
                shape = describe_query(call.args[0], scope)
                if shape is None:
                    continue
            elif name in {"all", "fetchall"} and not call.args:
                shape = describe_query(call, scope)
                if shape is None or shape.framework != "sqlalchemy":
                    continue
            else:
                continue
            yield Report(
                INDEX_INTO_EVALUATED_QUERY,
                subscript,
                {"expr": f"{short_call(call)}[{source(key)}]"},
                model=shape.entity,
                operation=name,
            )


def _is_random_order(arg: ast.expr) -> bool:
    if isinstance(arg, ast.Constant) and arg.value == django.RANDOM_ORDER:
        return True
    if isinstance(arg, ast.Call) and not arg.args:
        root, steps = unchain(arg.func) if isinstance(arg.func, ast.Attribute) else (arg.func, [])
        names = [getattr(root, "id", "")] + [s.name for s in steps]
        return "func" in names and names[-1] in sqlalchemy.RANDOM_FUNCTIONS
    return False


def _filtered_to_a_few(shape: QueryShape) -> bool:
    """Keys or one parent's rows (`filter(pk__in=...)`, `where(M.parent_id.in_(...))`): a small sort."""
    for step in shape.steps:
        if step.call is None or step.name not in {"filter", "where", "filter_by", "exclude"}:
            continue
        for keyword in step.call.keywords:
            if keyword.arg and (keyword.arg.endswith(("__in", "_id")) or keyword.arg in {"pk", "id"}):
                return True
        for node in ast.walk(step.call):
            if isinstance(node, ast.Attribute) and node.attr == "in_":
                return True
            if isinstance(node, ast.Compare) and _equals_a_key(node):
                return True
    return False


def _equals_a_key(compare: ast.Compare) -> bool:
    """`Reply.parent_id == parent.id`: one parent's rows; not `parent_id.is_(None)`, which is every root."""
    left, right = compare.left, compare.comparators[0]
    return (
        len(compare.ops) == 1
        and isinstance(compare.ops[0], ast.Eq)
        and isinstance(left, ast.Attribute)
        and left.attr.endswith("_id")
        and not (isinstance(right, ast.Constant) and right.value is None)
    )


@check(RANDOM_ORDERING)
def random_ordering(index: ModuleIndex) -> Iterator[Report]:
    """random-ordering: `order_by("?")` / `order_by(func.random())`."""
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            if call_name(call) == "order_by" and any(_is_random_order(a) for a in call.args):
                shape = describe_query(call, scope)
                if shape is None or _filtered_to_a_few(shape):
                    continue  # a related manager's or a parent's few rows, or a query syntax cannot see
                yield Report(
                    RANDOM_ORDERING, call, {"expr": short_call(call)}, model=shape.entity, operation="order_by"
                )
