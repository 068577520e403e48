"""query-in-loop: a query or write issued on every iteration of a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.performance import QUERY_IN_LOOP
from ...frameworks import django, sqlalchemy
from ..queries import QueryShape, dotted_name, describe_query, is_session_like, looks_like_model, unchain
from ..registry import Report, check
from ..render import short_call
from ..scope import LoopFrame, ModuleIndex, Scope

_BATCH_READ = {
    "django": "load them all before the loop with one filter(<field>__in=...) or in_bulk() and look them up in a dict",
    "sqlalchemy": (
        "load them all before the loop with one select(...).where(<column>.in_(...)) and look them up in a dict"
    ),
}
_BATCH = {
    "count": "compute every count in one query: annotate(Count(...)) or group_by() with func.count()",
    "aggregate": "compute every aggregate in one query: annotate(...) or group_by()",
    "create": "collect the objects and bulk_create() them after the loop",
    "save": "collect the changes and bulk_update() (or QuerySet.update()) after the loop",
    "get_or_create": "read the existing rows once with filter(<field>__in=...) and bulk_create() the missing ones",
    "update_or_create": (
        "read the existing rows once with filter(<field>__in=...), then bulk_update() and bulk_create()"
    ),
    "delete": "delete them in one statement: filter(pk__in=...).delete() or delete(Model).where(...)",
    "update": "update them in one statement: QuerySet.update(), update(Model).where(...) or bulk_update()",
    "commit": "add everything (add_all()) and commit once after the loop",
    "flush": "add everything (add_all()) and flush once after the loop",
    "execute": "send one statement for all items: in_(), executemany or a bulk insert()/update()",
    "merge": "load all the objects with one query before the loop",
    "refresh": "load all the objects with one query before the loop",
    "refresh_from_db": "reload all the objects with one query before the loop",
}
for _name in ("scalars", "scalar", "exec"):
    _BATCH[_name] = _BATCH["execute"]

_SESSION_METHODS = sqlalchemy.SESSION_QUERY_METHODS | sqlalchemy.SESSION_FLUSH_METHODS
_QUERY_METHODS = django.EVALUATING_METHODS | django.WRITE_METHODS | sqlalchemy.QUERY_TERMINAL_METHODS
_RELATED_MANAGER_READS = frozenset({"count", "exists", "first", "last", "aggregate", "latest", "earliest"})
_CURSOR_NAMES = frozenset({"cursor", "cur", "conn", "connection"})


def _batch_advice(method: str, framework: str) -> str:
    return _BATCH.get(method) or _BATCH_READ[framework]


def _receiver_text(receiver: ast.expr) -> str:
    return (dotted_name(receiver) or "").lower()


def _last_name(receiver: ast.expr) -> str:
    if isinstance(receiver, ast.Attribute):
        return receiver.attr
    if isinstance(receiver, ast.Name):
        return receiver.id
    return ""


def per_iteration_query(call: ast.Call, scope: Scope) -> tuple[str, str] | None:
    """(method, framework) when this call sends SQL each time it runs, else None."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    method, receiver = func.attr, func.value
    receiver_name = _last_name(receiver)
    receiver_text = _receiver_text(receiver)
    if "request" in receiver_text:
        return None  # request.session is a dict-like store, not a database session

    if method in _SESSION_METHODS and is_session_like(receiver_name) and receiver_name.lower() != "db":
        if method in sqlalchemy.SESSION_FLUSH_METHODS:
            return method, "sqlalchemy"
        if not call.args:
            return None
        if method in {"get", "get_one"} and not looks_like_model(call.args[0]):
            return None
        return method, "sqlalchemy"
    if receiver_name == "db" and method in sqlalchemy.DB_QUERY_HELPERS:
        return "get", "sqlalchemy"
    if (
        method in {"execute", "executescript", "exec_driver_sql"}
        and receiver_name.lower() in _CURSOR_NAMES
        and call.args
    ):
        return "execute", "sqlalchemy"
    if method in {"get_or_create", "update_or_create"}:
        return method, "django"

    if method in _QUERY_METHODS:
        shape = describe_query(receiver, scope)
        if shape is not None:
            return _query_method(method, call, shape)
        if _is_related_manager(receiver, scope) and _related_manager_query(method, call):
            return method, "django"

    if method in django.INSTANCE_WRITE_METHODS and not call.args and not _commit_false(call):
        if isinstance(receiver, (ast.Name, ast.Attribute)) and not any(
            word in receiver_text for word in ("session", "cache", "storage", "file")
        ):
            return method, "django"
    return None


def _commit_false(call: ast.Call) -> bool:
    """`form.save(commit=False)` builds the object without writing it."""
    return any(
        k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords
    )


def _query_method(method: str, call: ast.Call, shape: QueryShape) -> tuple[str, str] | None:
    if shape.terminal is not None:
        return None  # the receiver is a result already (a dict from in_bulk, a list from all())
    if method == "get" and len(call.args) > 1:
        return None  # (key, default): a dict's get
    if method == "all" and shape.framework == "django":
        return None  # lazy in Django
    if method == "update" and shape.framework == "django" and call.args:
        return None
    if method not in django.EVALUATING_METHODS | django.WRITE_METHODS and shape.framework == "django":
        return None
    return method, shape.framework


def _is_related_manager(receiver: ast.expr, scope: Scope) -> bool:
    """`author.books` or `author.books.filter(...)`: a relation of a loop item or local object."""
    root, steps = unchain(receiver)
    if not isinstance(root, ast.Name) or root.id in {"self", "cls"} or not steps:
        return False
    first, rest = steps[0], steps[1:]
    if first.call is not None or first.name.startswith("_"):
        return False
    return all(step.call is not None and step.name in django.LAZY_METHODS for step in rest)


def _related_manager_query(method: str, call: ast.Call) -> bool:
    if method in _RELATED_MANAGER_READS:
        return not call.args or method == "aggregate"
    if method in {"get", "create"}:
        return not call.args and bool(call.keywords)
    return False


_BATCH_CALLS = frozenset(
    {
        "add_all",
        "bulk_create",
        "bulk_update",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
        "executemany",
    }
)


def _fixed_iterations(frame: LoopFrame) -> bool:
    """A loop over a literal collection or `range(<constant>)`: its length does not grow with data."""
    iterable = frame.iter
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return True
    return (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "range"
        and all(isinstance(a, ast.Constant) for a in iterable.args)
    )


def _works_in_batches(frame: LoopFrame) -> bool:
    """`for start in range(0, n, 1000)` or a body that writes with bulk calls: one query per batch."""
    iterable = frame.iter
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "range"
        and len(iterable.args) == 3
    ):
        return True
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _BATCH_CALLS
        for stmt in frame.body
        for node in ast.walk(stmt)
    )


def _runs_per_item(frame: LoopFrame | None) -> bool:
    """Some enclosing loop repeats with the data (not a fixed list, not a batch loop)."""
    while frame is not None:
        if frame.scales is None:  # computed once per loop, however many calls it holds
            frame.scales = isinstance(frame.node, ast.While) or not (
                _fixed_iterations(frame) or _works_in_batches(frame)
            )
        if frame.scales:
            return True
        frame = frame.parent
    return False


@check(QUERY_IN_LOOP)
def query_in_loop(index: ModuleIndex) -> Iterator[Report]:
    """query-in-loop: a call that sends SQL, or a query iterated, once per item."""
    for scope in index.scopes:
        covered: set[int] = set()
        for site in scope.calls:
            if site.frame is None or site.leaves_loop or id(site.node) in covered:
                continue
            verdict = per_iteration_query(site.node, scope)
            if verdict is None or not _runs_per_item(site.frame):
                continue
            _cover_chain(site.node, covered)
            method, framework = verdict
            yield Report(
                QUERY_IN_LOOP,
                site.node,
                {"call": short_call(site.node), "batch": _batch_advice(method, framework)},
            )
        yield from _queries_iterated_per_item(scope, covered)


def _queries_iterated_per_item(scope: Scope, covered: set[int]) -> Iterator[Report]:
    """A nested loop over a query built inside the outer loop runs it once per outer item."""
    for loop in scope.loops:
        iterable = loop.iter
        if loop.parent is None or iterable is None or not isinstance(iterable, ast.Call):
            continue
        if not _runs_per_item(loop.parent):
            continue
        if id(iterable) in covered:
            continue
        shape = describe_query(iterable, scope)
        if shape is None:
            continue
        _cover_chain(iterable, covered)
        yield Report(
            QUERY_IN_LOOP,
            iterable,
            {"call": short_call(iterable), "batch": _BATCH_READ[shape.framework]},
        )


def _cover_chain(call: ast.expr, covered: set[int]) -> None:
    node: ast.expr = call
    while True:
        if isinstance(node, ast.Call):
            covered.add(id(node))
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return
