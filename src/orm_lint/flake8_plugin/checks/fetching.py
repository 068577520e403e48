"""What a fetch brings back and how it is used: the first row by `[0]`, rows fetched to test, whole rows for a column.

Complements evaluation.py: `list(qs)[0]` and SQLAlchemy `.all()[0]` are ORM107's, `if qs:` on a Django
QuerySet is ORM105's; the checks here never report those places.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.correctness import FIRST_ROW_BY_INDEX
from ...catalogue.performance import FETCHED_ROWS_TRUTHINESS, WHOLE_ROWS_FOR_ONE_COLUMN
from ...project.columns import known_columns
from ..queries import MATERIALIZERS, QueryShape, call_name, describe_query
from ..registry import Report, check
from ..render import short_call
from ..scope import ModuleIndex, Scope
from .evaluation import only_counted_or_tested, tested_for_truth

# Errors whose handler makes an empty result an expected case.
_EMPTY_RESULT_ERRORS = frozenset({"IndexError", "LookupError", "Exception", "BaseException", ""})
# Calls in a condition that test whether rows exist before `[0]` is taken.
_EXISTENCE_TESTS = frozenset({"exists", "count", "len", "bool", "first", "last"})


@check(FIRST_ROW_BY_INDEX, runs_on_tests=False)
def first_row_by_index(index: ModuleIndex) -> Iterator[Report]:
    """first-row-by-index: `Model.objects.filter(...)[0]` raises IndexError on no rows."""
    for scope in index.scopes:
        for subscript in scope.indexed_calls:
            key = subscript.slice
            if not (isinstance(key, ast.Constant) and key.value == 0 and isinstance(subscript.ctx, ast.Load)):
                continue
            call = subscript.value
            assert isinstance(call, ast.Call)
            if isinstance(call.func, ast.Name) and call.func.id in MATERIALIZERS:
                continue  # list(qs)[0]: ORM107
            shape = describe_query(call, scope)
            if shape is None or not shape.is_lazy_queryset:
                continue
            if _guarded(scope, subscript) or _guarded_by_a_helper(scope, subscript, shape, index):
                continue
            yield Report(
                FIRST_ROW_BY_INDEX,
                subscript,
                {"expr": f"{short_call(call)}[0]", "fix": _first(call)},
                model=shape.entity,
                operation="[0]",
            )


def _first(call: ast.Call) -> str:
    return f"{short_call(call)}.first()"


def _guarded(scope: Scope, node: ast.AST) -> bool:
    """Inside a `try` that handles an empty result, after a test for rows, or in `qs.exists() and qs[0]`."""
    line = getattr(node, "lineno", 0)
    if any(test.lineno <= line and _tests_rows(test, scope) for test in scope.truth_tests):
        return True
    for statement in ast.walk(scope.node):
        if isinstance(statement, ast.Try):
            caught = set()
            for handler in statement.handlers:
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                caught.update("" if kind is None else _last_name(kind) for kind in kinds)
            if caught & _EMPTY_RESULT_ERRORS and _contains(statement.body, node):
                return True
        elif isinstance(statement, ast.BoolOp):
            if any(_tests_rows(value, scope) for value in statement.values) and _contains(statement.values, node):
                return True
    return False


def _guarded_by_a_helper(scope: Scope, node: ast.AST, shape: QueryShape, index: ModuleIndex) -> bool:
    """The function returns early, before `[0]`, on what a helper of this module decided after testing the same
    model's rows (`queryset, redirect = checked(request)` / `if redirect: return redirect`, the helper holding
    `if Ticket.objects.count() == 0: return ..., redirect_to_index`)."""
    line = getattr(node, "lineno", 0)
    body = getattr(scope.node, "body", [])
    if not any(
        isinstance(s, ast.If) and s.lineno < line and any(isinstance(n, (ast.Return, ast.Raise)) for n in ast.walk(s))
        for s in body
    ):
        return False
    for site in scope.calls:
        helper = index.callee(site.node, scope) if site.node.lineno < line else None
        if helper is None or helper is scope:
            continue
        for test in [*helper.truth_tests, *helper.compares]:
            for inner in ast.walk(test):
                tested = describe_query(inner, helper) if isinstance(inner, ast.Call) else None
                if tested is not None and tested.entity == shape.entity and call_name(inner) in _EXISTENCE_TESTS:
                    return True
    return False


def _contains(parts: list, node: ast.AST) -> bool:  # type: ignore[type-arg]
    flat = [item for part in parts for item in (part if isinstance(part, list) else [part])]
    return any(inner is node for item in flat for inner in ast.walk(item))


def _tests_rows(test: ast.expr, scope: Scope) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and call_name(node) in _EXISTENCE_TESTS:
            return True
        if isinstance(node, (ast.Name, ast.Call)) and describe_query(node, scope) is not None:
            return True
    return False


def _last_name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""


@check(FETCHED_ROWS_TRUTHINESS, runs_on_tests=False)
def fetched_rows_truthiness(index: ModuleIndex) -> Iterator[Report]:
    """fetched-rows-truthiness: `if query.all():` where `exists()` or `first()` was meant."""
    for scope in index.scopes:
        for expr in tested_for_truth(scope):
            fetched = _fetched_rows(expr, scope)
            if fetched is None:
                continue
            if isinstance(expr, ast.Name) and not only_counted_or_tested(expr.id, scope):
                continue
            fix = "select exists() instead" if fetched.framework == "sqlalchemy" else "use exists()"
            yield Report(
                FETCHED_ROWS_TRUTHINESS,
                expr,
                {"expr": expr.id if isinstance(expr, ast.Name) else short_call(expr), "fix": f"{fix} or test first()"},
                model=fetched.entity,
                operation=fetched.terminal,
            )


def _fetched_rows(expr: ast.expr, scope: Scope) -> QueryShape | None:
    """A SQLAlchemy `.all()` / `.fetchall()` result of an unbounded query (through a local bound once)."""
    if isinstance(expr, ast.Name):
        values = scope.values_of(expr.id)
        if not values or len(values) != 1:
            return None
        expr = values[0]
    if not (isinstance(expr, ast.Call) and call_name(expr) in {"all", "fetchall"} and not expr.args):
        return None
    shape = describe_query(expr, scope)
    if shape is None or shape.framework != "sqlalchemy" or shape.is_bounded:
        return None
    return shape


# Columns a model must have beyond those read for whole rows to be worth reporting.
_MIN_COLUMNS_LEFT = 4
# Steps after which the items are not whole model rows, or only some of their columns are loaded.
_PARTIAL_LOADS = frozenset({"only", "defer", "options", "values", "values_list", "with_only_columns", "add_columns"})


@check(WHOLE_ROWS_FOR_ONE_COLUMN, runs_on_tests=False)
def whole_rows_for_one_column(index: ModuleIndex) -> Iterator[Report]:
    """whole-rows-for-one-column: `[u.id for u in User.objects.filter(...)]` where `values_list` was meant."""
    for scope in index.scopes:
        for frame in scope.loops:
            generator = frame.node
            if not isinstance(generator, ast.comprehension) or not isinstance(frame.target, ast.Name):
                continue
            if any(isinstance(part, ast.comprehension) for part in frame.body) or frame.parent is not None:
                continue  # several generators, or nested in a loop: the rows may serve more than this
            iterable = generator.iter
            shape = describe_query(iterable, scope)
            if shape is None or shape.entity is None or shape.has_step(_PARTIAL_LOADS):
                continue
            if shape.terminal not in {None, "all"} or not _used_once(iterable, scope):
                continue
            known = known_columns(index.project, shape.entity)
            read = _attributes_read(frame.target.id, frame.body)
            if known is None or read is None or not 1 <= len(read) <= 2:
                continue
            if len(known.columns - {"pk"}) < len(read) + _MIN_COLUMNS_LEFT:
                continue  # a narrow table: the row costs little more than the column
            relations = index.project.model(shape.entity)
            if relations is None or any(name not in known.columns or name in relations.relations for name in read):
                continue
            columns = ", ".join(f"{shape.entity}.{name}" for name in read)
            yield Report(
                WHOLE_ROWS_FOR_ONE_COLUMN,
                iterable,
                {"expr": short_call(iterable), "model": shape.entity, "columns": columns, "fix": _fix(shape, read)},
                model=shape.entity,
                attribute=", ".join(read),
                operation=shape.terminal or "iteration",
            )


def _used_once(iterable: ast.expr, scope: Scope) -> bool:
    """A query built here, or a local used only by this loop (a Django queryset caches its rows for other uses)."""
    if not isinstance(iterable, ast.Name):
        return True
    uses = [
        node
        for node in ast.walk(scope.node)
        if isinstance(node, ast.Name) and node.id == iterable.id and isinstance(node.ctx, ast.Load)
    ]
    return len(uses) == 1


def _attributes_read(variable: str, parts: list[ast.AST]) -> dict[str, None] | None:
    """The attributes read on the loop variable, in order; None when it is used whole (passed, returned, called)."""
    attributes: dict[str, None] = {}
    for part in parts:
        parents = {id(child): node for node in ast.walk(part) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(part):
            if not (isinstance(node, ast.Name) and node.id == variable):
                continue
            parent = parents.get(id(node))
            if not isinstance(parent, ast.Attribute):
                return None  # the item itself is used
            grand = parents.get(id(parent))
            if isinstance(grand, ast.Call) and grand.func is parent:
                return None  # a method of the item: it may read any column
            if isinstance(grand, (ast.Attribute, ast.Subscript)) and grand.value is parent:
                return None  # `i.image.url`: the field's Python object, which values_list() would not give
            attributes[parent.attr] = None
    return attributes


def _fix(shape: QueryShape, read: dict[str, None]) -> str:
    names = list(read)
    if shape.framework == "django":
        quoted = ", ".join(f'"{name}"' for name in names)
        return f"use values_list({quoted}{', flat=True' if len(names) == 1 else ''})"
    columns = ", ".join(f"{shape.entity}.{name}" for name in names)
    return f"select({columns}) instead of the whole entity"
