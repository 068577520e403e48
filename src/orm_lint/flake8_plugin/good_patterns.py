"""Good patterns the review counts in the code: each counter names what it counts, nothing is estimated.

The counters read the syntax engine's module index and query shapes, so they see what
the rules see: loops over a query that eager-loads, foreign keys declared with an index,
SQL kept constant with its values bound, and list endpoints that page or limit their rows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .checks.unbounded import unbounded_all_in_endpoint
from .endpoints import endpoint_name
from .queries import call_name, describe_query, unchain
from ..frameworks import django, sqlalchemy
from .scope import CONSTANT_NAME, LoopFrame, ModuleIndex, Scope

EAGER_STEPS = frozenset({"select_related", "prefetch_related", "options"})
_EXECUTORS = frozenset({"execute", "executemany", "exec_driver_sql", "raw"})
_PARAMETER_KEYWORDS = frozenset({"params", "parameters", "args"})
_SQL_KEYWORDS = frozenset({"sql", "statement", "query", "raw_query"})
_DJANGO_FOREIGN_KEYS = frozenset({"ForeignKey", "OneToOneField"})
_COLUMN_CALLS = frozenset({"mapped_column", "Column"})
_INDEXING_KEYWORDS = frozenset({"index", "unique", "primary_key"})
_PAGING_STEPS = frozenset({"limit", "slice", "paginate"})
_PAGINATORS = frozenset({"Paginator", "paginate", "paginate_queryset"})


def _last_line(*nodes: ast.AST) -> int:
    return max(getattr(n, "end_lineno", None) or getattr(n, "lineno", 0) for n in nodes)


def good_patterns(index: ModuleIndex) -> Iterator[tuple[str, ast.AST, int]]:
    """(kind, the node it is reported at, the last line of the code it stands for)."""
    for scope in index.scopes:
        for loop, iterable in eager_loaded_loops(scope):
            yield "eager_loaded_loop", iterable, _last_line(iterable, *loop.body)
        yield from (("parameterized_sql", node, _last_line(node)) for node in parameterized_sql(scope, index))
    yield from (("indexed_foreign_key", node, _last_line(node)) for node in indexed_foreign_keys(index))
    yield from (("bounded_endpoint", node, _last_line(node)) for node in bounded_endpoints(index))


def eager_loaded_loops(scope: Scope) -> Iterator[tuple[LoopFrame, ast.expr]]:
    """Loops over a query built with select_related / prefetch_related / options(...), with their iterable."""
    for loop in scope.loops:
        iterable = loop.iter
        if iterable is None:
            continue
        if isinstance(iterable, ast.Call) and call_name(iterable) == "enumerate" and iterable.args:
            iterable = iterable.args[0]
        shape = describe_query(iterable, scope)
        if shape is None or shape.entity is None or not shape.has_step(EAGER_STEPS):
            continue
        if shape.loaded or shape.loads_everything:
            yield loop, iterable


def _constant_sql(expr: ast.expr, scope: Scope, index: ModuleIndex) -> bool:
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str)
    if isinstance(expr, ast.Call) and call_name(expr) == sqlalchemy.TEXT_FUNCTION and len(expr.args) == 1:
        return _constant_sql(expr.args[0], scope, index)
    if isinstance(expr, ast.Name):
        values = scope.values_of(expr.id)
        if values is not None and len(values) == 1 and expr.id not in scope.contributions:
            return _constant_sql(values[0], scope, index)
        if values is None and expr.id in scope.params:
            return False
        return bool(CONSTANT_NAME.match(expr.id)) and index.module_constant(expr.id)
    return False


def parameterized_sql(scope: Scope, index: ModuleIndex) -> Iterator[ast.Call]:
    """Raw SQL calls with constant SQL text and separately bound values."""
    for site in scope.calls:
        call = site.node
        name = call_name(call)
        if name in _EXECUTORS and isinstance(call.func, ast.Attribute):
            if name == "raw" and not any(s.name in django.MANAGER_ATTRIBUTES for s in unchain(call.func.value)[1]):
                continue
        elif name != "RawSQL":
            continue
        sql = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in _SQL_KEYWORDS), None)
        bound = len(call.args) >= 2 or any(k.arg in _PARAMETER_KEYWORDS for k in call.keywords)
        if sql is not None and bound and _constant_sql(sql, scope, index):
            yield call


def _true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def indexed_foreign_keys(index: ModuleIndex) -> Iterator[ast.Call]:
    """Foreign-key declarations that carry their own index."""
    uses_django = any(name.startswith("django") for name in index.imports.values())
    for cls in index.classes:
        for stmt in cls.body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if not isinstance(value, ast.Call):
                continue
            name = call_name(value)
            keywords = {k.arg: k.value for k in value.keywords if k.arg}
            indexed = any(_true(keywords[k]) for k in _INDEXING_KEYWORDS if k in keywords)
            if name in _DJANGO_FOREIGN_KEYS and uses_django:
                db_index = keywords.get("db_index")
                if not (isinstance(db_index, ast.Constant) and db_index.value is False):
                    yield value
            elif name in _COLUMN_CALLS and indexed:
                if any(isinstance(a, ast.Call) and call_name(a) == "ForeignKey" for a in value.args):
                    yield value
            elif name == "Field" and indexed and "foreign_key" in keywords:
                yield value


def _bounds_rows(scope: Scope) -> bool:
    for site in scope.calls:
        call = site.node
        if call_name(call) in _PAGINATORS:
            return True
        shape = describe_query(call, scope)
        if shape is not None and shape.has_step(_PAGING_STEPS):
            return True
    for subscript in scope.indexed_calls:
        if isinstance(subscript.slice, ast.Slice) and describe_query(subscript.value, scope) is not None:
            return True
    return False


def bounded_endpoints(index: ModuleIndex) -> Iterator[ast.AST]:
    """Endpoints that page or limit what they read, with no unbounded-read finding."""
    unbounded = {id(report.node) for report in unbounded_all_in_endpoint(index)}
    for scope in index.scopes:
        if endpoint_name(scope, index, index.endpoint_decorators) is None:
            continue
        if any(id(site.node) in unbounded for site in scope.calls):
            continue
        if _bounds_rows(scope):
            yield scope.node
    for cls in index.classes:
        bases = {getattr(b, "attr", None) or getattr(b, "id", None) for b in cls.bases}
        assigned = {t.id for s in cls.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
        if bases & django.LIST_VIEW_BASES and "paginate_by" in assigned:
            yield cls
