"""Python operators inside SQLAlchemy filters: evaluated by Python, never turned into SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.correctness import (
    BOOLEAN_OPERATOR_IN_FILTER,
    IDENTITY_TEST_IN_FILTER,
    MEMBERSHIP_TEST_IN_FILTER,
    NOT_OPERATOR_IN_FILTER,
)
from ...frameworks import sqlalchemy
from ..queries import call_name, looks_like_model
from ..registry import Report, check
from ..render import source
from ..scope import ModuleIndex


def _is_column(expr: ast.expr) -> bool:
    """`Model.column` or `table.c.column`."""
    if not isinstance(expr, ast.Attribute) or expr.attr.isupper():
        return False
    owner = expr.value
    if isinstance(owner, ast.Attribute) and owner.attr == "c":
        return True
    return looks_like_model(owner) is not None


def _compares_column(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Compare) and any(_is_column(e) for e in [expr.left, *expr.comparators])


def _operator_fix(compare: ast.Compare, method: str) -> str:
    """`Order.shipped_at.is_(None)`: the SQL operator method on the column side."""
    left, right = compare.left, compare.comparators[0]
    column, other = (left, right) if _is_column(left) else (right, left)
    return f"{source(column)}.{method}({source(other)})"


def _first_column(expr: ast.expr) -> tuple[str | None, str | None]:
    """(model, column) of the first `Model.column` / `table.c.column` in the expression."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute) and _is_column(node):
            return looks_like_model(node.value), node.attr
    return None, None


def _inspect(arg: ast.expr, operation: str | None) -> Iterator[Report]:
    found = None
    if isinstance(arg, ast.Compare) and _compares_column(arg):
        ops = {type(op) for op in arg.ops}
        if ops & {ast.Is, ast.IsNot}:
            found = IDENTITY_TEST_IN_FILTER, _operator_fix(arg, "is_not" if ast.IsNot in ops else "is_")
        elif ops & {ast.In, ast.NotIn}:
            found = MEMBERSHIP_TEST_IN_FILTER, _operator_fix(arg, "not_in" if ast.NotIn in ops else "in_")
    elif isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.Not):
        if _is_column(arg.operand) or _compares_column(arg.operand):
            fix = f"~{source(arg.operand)}" if _is_column(arg.operand) else f"not_({source(arg.operand)})"
            found = NOT_OPERATOR_IN_FILTER, fix
    elif isinstance(arg, ast.BoolOp):
        if any(_is_column(v) or _compares_column(v) for v in arg.values):
            fix = "and_(...) or separate arguments" if isinstance(arg.op, ast.And) else "or_(...)"
            found = BOOLEAN_OPERATOR_IN_FILTER, fix
    if found is not None:
        rule, fix = found
        model, column = _first_column(arg)
        yield Report(rule, arg, {"expr": source(arg), "fix": fix}, model=model, attribute=column, operation=operation)


@check(
    IDENTITY_TEST_IN_FILTER,
    MEMBERSHIP_TEST_IN_FILTER,
    NOT_OPERATOR_IN_FILTER,
    BOOLEAN_OPERATOR_IN_FILTER,
    runs_on_migrations=True,
)
def python_operator_in_filter(index: ModuleIndex) -> Iterator[Report]:
    """identity/membership/not/boolean operators applied to columns inside a filter."""
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            name = call_name(call)
            is_filter = isinstance(call.func, ast.Attribute) and name in sqlalchemy.FILTER_METHODS
            if not is_filter and name not in sqlalchemy.BOOLEAN_FUNCTIONS:
                continue
            for arg in call.args:
                yield from _inspect(arg, name)
