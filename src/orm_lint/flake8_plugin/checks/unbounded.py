"""unbounded-all-in-endpoint: a list endpoint returns a whole table."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ...catalogue.performance import UNBOUNDED_ALL_IN_ENDPOINT
from ...frameworks import django
from ..endpoints import endpoint_name
from ...project import ProjectIndex
from ...project.table_size import stays_small, unknown_size
from ..queries import ROWS_BY_NAME, QueryShape, describe_query, dotted_name, unchain
from ..registry import Report, check
from ..render import short_call
from ..scope import ModuleIndex, Scope

_PAGINATORS = django.PAGINATOR_NAMES | {"paginate", "paginate_queryset", "Page"}
_LIST_VIEW_BASES = frozenset({"ListView", "BaseListView"})
# Django REST framework list views: paged by the project's DEFAULT_PAGINATION_CLASS unless they opt out.
_API_LIST_VIEW_BASES = django.LIST_VIEW_BASES - _LIST_VIEW_BASES
# The signed-in user, in Django, Flask-Login, Flask's `g` and common names for it.
_CURRENT_USER = re.compile(r"(^|\.)(current_user|auth_user|request\.user|g\.user|self\.request\.user)(\.|$)")
# Methods that narrow rows to one row or one value: what reaches the response is no longer the table.
_NARROWING_METHODS = frozenset(
    {"filter", "get", "first", "last", "count", "exists", "aggregate", "in_bulk", "earliest", "latest", "scalar"}
)
# Builtins that reduce rows to one value: the rows are loaded, but not returned.
_REDUCERS = frozenset({"len", "bool", "sum", "min", "max", "any", "all"})


def _unbounded_all(call: ast.Call, scope: Scope) -> QueryShape | None:
    """The query when this chain ends in (or passes through) a zero-argument `.all()`."""
    _, steps = unchain(call)
    if not any(s.name == "all" and s.call is not None and not s.call.args for s in steps):
        return None
    shape = describe_query(call, scope)
    if shape is None or shape.is_bounded or shape.terminal not in (None, "all"):
        return None  # `.all().count()`, `.all().first()`: one value or one row
    return shape


def _names_reaching_response(scope: Scope) -> set[str]:
    """Local names whose rows flow into a `return` (through other locals, appends and loops)."""
    reaching: set[str] = set()
    frontier = [name for ret in scope.returns if ret.value is not None for name in _row_names(ret.value)]
    while frontier:
        name = frontier.pop()
        if name in reaching:
            continue
        reaching.add(name)
        for value in [*scope.assignments.get(name, []), *scope.contributions.get(name, [])]:
            frontier.extend(_row_names(value))
        for frame in scope.loop_bindings.get(name, []):
            if frame.iter is not None:
                frontier.extend(_row_names(frame.iter))
    return reaching


def _row_names(expr: ast.AST) -> set[str]:
    """Names whose rows an expression carries: not those only narrowed (`qs.count()`, `qs.filter(pk=1)`)."""
    narrowed = {
        id(node.func.value)
        for node in ast.walk(expr)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _NARROWING_METHODS
        and isinstance(node.func.value, ast.Name)
    }
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in narrowed}


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _bounded_later(name: str, function: ast.AST, paginators: frozenset[str]) -> bool:
    """`Paginator(qs, ...)`, `paginate(qs)` or `qs[a:b]` somewhere in the function."""
    for node in ast.walk(function):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            if isinstance(node.value, ast.Name) and node.value.id == name:
                return True
        elif isinstance(node, ast.Call):
            if _called_name(node) in paginators and any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                return True
    return False


@check(UNBOUNDED_ALL_IN_ENDPOINT)
def unbounded_all_in_endpoint(index: ModuleIndex) -> Iterator[Report]:
    """unbounded-all-in-endpoint: `.all()` of a whole table returned by a list endpoint."""
    extra = index.endpoint_decorators
    paginators = _PAGINATORS | index.pagination_helpers
    for scope in index.scopes:
        endpoint = endpoint_name(scope, index, extra)
        if endpoint is None:
            continue
        yield from _endpoint_findings(scope, endpoint, paginators, index.project)
    yield from _list_view_findings(index)
    yield from _rows_listed_for_a_paginator(index)


# Builtins that load every row of a query into a list.
_LISTING = frozenset({"list", "sorted", "tuple"})


def _rows_listed_for_a_paginator(index: ModuleIndex) -> Iterator[Report]:
    """`Paginator(list(queryset), per_page)`: every row is loaded for the paginator to slice one page in Python."""
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            if dotted_name(call.func) not in {"Paginator", "paginator.Paginator"} or not call.args:
                continue
            listed = call.args[0]
            if not (isinstance(listed, ast.Call) and isinstance(listed.func, ast.Name) and listed.func.id in _LISTING):
                continue
            if len(listed.args) != 1:
                continue
            rows = listed.args[0]
            named = isinstance(rows, ast.Name) and rows.id in ROWS_BY_NAME
            if not named and describe_query(rows, scope) is None:
                continue
            shown = ast.unparse(listed)
            yield Report(
                UNBOUNDED_ALL_IN_ENDPOINT,
                listed,
                {
                    "call": shown if len(shown) <= 40 else short_call(listed),
                    "origin": " to a Paginator that keeps one page of them",
                    "advice": "hand Paginator the query itself: it counts and slices the page in SQL",
                },
            )


def _report(call: ast.Call, shape: QueryShape, endpoint: str, project: ProjectIndex, scope: Scope) -> Report:
    """The finding, at low severity when the rows are likely few: one user's, or a lookup table's."""
    scale = ""
    if _filtered_by_current_user(shape, scope):
        scale = " (one user's rows: fewer, but still no bound)"
    else:
        model = project.model(shape.entity)
        small = stays_small(model, project.model) if model is not None else None
        unknown = unknown_size(model, project.model) if model is not None and small is None else None
        if small or unknown:
            scale = f" ({small or unknown})"
    return Report(
        UNBOUNDED_ALL_IN_ENDPOINT,
        call,
        {"call": short_call(call), "origin": f" from endpoint {endpoint} with no limit", "scale": scale},
        lowered_by=1 if scale else 0,
    )


def _filtered_by_current_user(shape: QueryShape, scope: Scope) -> bool:
    """`filter(owner=request.user)`, `where(Item.user_id == current_user.id)`: one user's rows; also through a
    local the call is given (`filter(*filters)` with `filters = [Item.user_id == auth_user.id]`,
    `.params(**params)` of a SQL text with `params = {"user_id": auth_user.id}`)."""
    for step in shape.steps:
        if step.call is None:
            continue
        for node in ast.walk(step.call):
            if isinstance(node, (ast.Attribute, ast.Name)) and _CURRENT_USER.search(dotted_name(node) or ""):
                return True
            if isinstance(node, ast.Name) and _holds_current_user(node.id, scope):
                return True
    return False


def _holds_current_user(name: str, scope: Scope) -> bool:
    values = [*(scope.values_of(name) or []), *scope.contributions.get(name, [])]
    return any(
        isinstance(node, (ast.Attribute, ast.Name)) and _CURRENT_USER.search(dotted_name(node) or "")
        for value in values
        for node in ast.walk(value)
    )


def _endpoint_findings(
    scope: Scope, endpoint: str, paginators: frozenset[str], project: ProjectIndex
) -> Iterator[Report]:
    # `qs[:50]` is a LIMIT, `qs[0]` a LIMIT 1
    sliced = {id(s.value) for s in scope.indexed_calls}
    returned = {id(n) for ret in scope.returns if ret.value is not None for n in ast.walk(ret.value)}
    reaching: set[str] | None = None
    # Rows reduced to one value, or handed to a paginator, are not a whole-table response.
    reduced = {
        id(arg) for site in scope.calls if _called_name(site.node) in _REDUCERS | paginators for arg in site.node.args
    }
    for site in scope.calls:
        call = site.node
        if id(call) in scope.receiver_calls or id(call) in sliced or id(call) in reduced:
            continue  # only whole chains, and a sliced chain is bounded
        shape = _unbounded_all(call, scope)
        if shape is None:
            continue
        if id(call) not in returned:
            holders = [
                name
                for name, values in scope.assignments.items()
                if any(call is node for v in values for node in ast.walk(v))
            ]
            holders += [name for name, frames in scope.loop_bindings.items() if any(f.iter is call for f in frames)]
            if reaching is None:
                reaching = _names_reaching_response(scope)
            if not any(name in reaching for name in holders):
                continue
            if any(_bounded_later(name, scope.node, paginators) for name in holders):
                continue
        yield _report(call, shape, endpoint, project, scope)


def _list_view_findings(index: ModuleIndex) -> Iterator[Report]:
    """Django `ListView` subclasses without `paginate_by` whose queryset is `.all()`."""
    for cls in index.classes:
        bases = {getattr(b, "attr", None) or getattr(b, "id", None) for b in cls.bases}
        if not bases & django.LIST_VIEW_BASES:
            continue
        attributes = {
            t.id: stmt.value
            for stmt in cls.body
            if isinstance(stmt, ast.Assign)
            for t in stmt.targets
            if isinstance(t, ast.Name)
        }
        if "paginate_by" in attributes:
            continue
        pagination = attributes.get("pagination_class")
        if bases & _API_LIST_VIEW_BASES and not (isinstance(pagination, ast.Constant) and pagination.value is None):
            continue  # paged by the project's DEFAULT_PAGINATION_CLASS, which this module cannot see
        queryset = attributes.get("queryset")
        if isinstance(queryset, ast.Call):
            shape = _unbounded_all(queryset, index.module)
            if shape is not None:
                yield _report(queryset, shape, cls.name, index.project, index.module)
