"""What a query eager-loads, followed back from a loop's iterable through the function.

The result is a tree of relation names (`{"lines": {"product": {}}}`); `EVERYTHING` as a
key means "assume loaded". `None` means the source of the items is unknown, and unknown
never produces a finding.
"""

from __future__ import annotations

from typing import Optional

from mypy.nodes import (
    AwaitExpr,
    CallExpr,
    Expression,
    ListExpr,
    MemberExpr,
    NameExpr,
    RefExpr,
    StarExpr,
    StrExpr,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.types import Instance, get_proper_type

from ..frameworks import django, sqlalchemy
from .function_map import FunctionMap

EVERYTHING = "*"
Loads = dict[str, "Loads"]
_MAX_DEPTH = 12

_PASS_THROUGH = frozenset({"list", "tuple", "sorted", "reversed", "iter", "set", "enumerate", "Paginator"})
_SINGLE_OBJECT_HELPERS = frozenset({"get_object_or_404", "get_list_or_404"})
_KEEP_LOADS = (
    django.LAZY_METHODS
    | sqlalchemy.STATEMENT_METHODS
    | sqlalchemy.RESULT_METHODS
    | sqlalchemy.QUERY_TERMINAL_METHODS
    | {"first", "last", "get", "latest", "earliest", "iterator", "get_page", "page", "one_or_404", "first_or_404"}
) - {"select_related", "prefetch_related", "options", "values", "values_list", "count", "exists", "update", "delete"}
_SESSION_RUNNERS = sqlalchemy.ITEM_RUNNERS | {"execute"}
_MANAGER_ROOTS = frozenset({"objects", "_default_manager", "_base_manager", "query"})


def union(a: Loads, b: Loads) -> Loads:
    merged = dict(a)
    for key, sub in b.items():
        merged[key] = union(merged[key], sub) if key in merged else sub
    return merged


def intersection(a: Loads, b: Loads) -> Loads:
    if EVERYTHING in a:
        return b
    if EVERYTHING in b:
        return a
    return {key: intersection(a[key], b[key]) for key in a.keys() & b.keys()}


def subtree(loads: Loads, name: str) -> Loads | None:
    """What is loaded on the objects reached through `name`; None when `name` itself is not."""
    if EVERYTHING in loads:
        return {EVERYTHING: {}}
    return loads.get(name)


def _path(*names: str) -> Loads:
    tree: Loads = {}
    for name in reversed(names):
        tree = {name: tree}
    return tree


def _lookup_path(value: str) -> Loads:
    return _path(*value.split(django.LOOKUP_SEPARATOR))


def _is_session(expr: Expression) -> bool:
    return isinstance(expr, (NameExpr, MemberExpr)) and sqlalchemy.is_session_name(expr.name)


class Tracer:
    """Follows expressions inside one function."""

    def __init__(self, function: FunctionMap) -> None:
        self.function = function
        self.resolving: set[str] = set()

    def loads(self, expr: Expression | None, depth: int = 0) -> Optional[Loads]:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, AwaitExpr):
            return self.loads(expr.expr, depth + 1)
        if isinstance(expr, CallExpr):
            return self._call(expr, depth)
        if isinstance(expr, MemberExpr):
            return self._member(expr, depth)
        if isinstance(expr, NameExpr):
            return self._name(expr, depth)
        return None

    # -- calls ---------------------------------------------------------------------------
    def _call(self, call: CallExpr, depth: int) -> Optional[Loads]:
        callee = call.callee
        if isinstance(callee, NameExpr):
            if callee.name in _PASS_THROUGH and call.args:
                return self.loads(call.args[0], depth + 1)
            if callee.name in sqlalchemy.SELECT_FUNCTIONS:
                return {}
            if callee.name in _SINGLE_OBJECT_HELPERS and call.args:
                first = call.args[0]
                return {} if _is_class(first) else self.loads(first, depth + 1)
            return None
        if not isinstance(callee, MemberExpr):
            return None
        method, receiver = callee.name, callee.expr
        if method in sqlalchemy.SELECT_FUNCTIONS and isinstance(receiver, NameExpr):
            return {}  # db.select(...), sa.select(...)
        if _is_session(receiver):
            if method in sqlalchemy.SESSION_GETTERS:
                options = _keyword(call, "options")
                return _option_loads(options.items) if isinstance(options, (ListExpr, TupleExpr)) else {}
            if method in _SESSION_RUNNERS and call.args:
                return self.loads(call.args[0], depth + 1)
            if method == "query":
                return {}
        if method == "select_related":
            base = self.loads(receiver, depth + 1)
            extra: Loads = {EVERYTHING: {}} if not call.args else {}
            for arg in call.args:
                extra = union(extra, _lookup_path(arg.value) if isinstance(arg, StrExpr) else {EVERYTHING: {}})
            return None if base is None else union(base, extra)
        if method == "prefetch_related":
            base = self.loads(receiver, depth + 1)
            extra = {}
            for arg in call.args:
                extra = union(extra, self._prefetch(arg, depth))
            return None if base is None else union(base, extra)
        if method == "options":
            base = self.loads(receiver, depth + 1)
            return None if base is None else union(base, _option_loads(call.args))
        if method in _KEEP_LOADS:
            if isinstance(receiver, MemberExpr) and method != "all" and not _is_manager_root(receiver):
                # `publisher.books.order_by(...)`: a new query on a related manager loads nothing
                return {} if self.loads(receiver.expr, depth + 1) is not None else None
            return self.loads(receiver, depth + 1)
        return None

    def _prefetch(self, arg: Expression, depth: int) -> Loads:
        if isinstance(arg, StrExpr):
            return _lookup_path(arg.value)
        if isinstance(arg, CallExpr) and isinstance(arg.callee, RefExpr) and arg.callee.name == django.PREFETCH_CLASS:
            lookup = arg.args[0] if arg.args and isinstance(arg.args[0], StrExpr) else None
            if lookup is None:
                return {EVERYTHING: {}}
            queryset = _keyword(arg, "queryset")
            inner = self.loads(queryset, depth + 1) if queryset is not None else {}
            parts = lookup.value.split(django.LOOKUP_SEPARATOR)
            tree = _path(*parts)
            node = tree
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = inner if inner is not None else {EVERYTHING: {}}
            to_attr = _keyword(arg, "to_attr")
            if isinstance(to_attr, StrExpr):
                tree = union(tree, {to_attr.value: node[parts[-1]]})
            return tree
        return {EVERYTHING: {}}

    # -- attributes and names ------------------------------------------------------------
    def _member(self, member: MemberExpr, depth: int) -> Optional[Loads]:
        if member.name in _MANAGER_ROOTS and _is_class(member.expr):
            return None if _custom_get_queryset(member) else {}
        if member.name in {"items", "object_list"}:
            return self.loads(member.expr, depth + 1)  # a page of a paginated query
        owner = self.loads(member.expr, depth + 1)
        if owner is None:
            return None
        loaded = subtree(owner, member.name)
        return loaded if loaded is not None else {}

    def _name(self, name: NameExpr, depth: int) -> Optional[Loads]:
        key = name.name
        function = self.function
        if key in self.resolving:
            return {EVERYTHING: {}}  # `qs = qs.filter(...)`: the refinement keeps what was loaded
        frames = function.loop_bindings.get(key)
        if frames:
            if len(frames) != 1 or frames[0].iterable is None or not frames[0].binds(key):
                return None
            return self.loads(item_source(frames[0].iterable, frames[0].target, key), depth + 1)
        if key in function.params:
            return None
        values = function.assignments.get(key)
        if not values:
            return None
        self.resolving.add(key)
        try:
            result: Optional[Loads] = None
            refinements: Loads = {}
            for value in values:
                if _rooted_at(value, key):
                    traced = self.loads(value, depth + 1)
                    if traced is None:
                        return None
                    refinements = union(refinements, {k: v for k, v in traced.items() if k != EVERYTHING})
                    continue
                traced = self.loads(value, depth + 1)
                if traced is None:
                    return None
                result = traced if result is None else intersection(result, traced)
            if result is None:
                return None
            return union(result, refinements)
        finally:
            self.resolving.discard(key)


def item_source(iterable: Expression | None, target: Expression | None, name: str) -> Expression | None:
    """`enumerate(qs)` with `(i, item)`: the items come from `qs`."""
    if isinstance(target, NameExpr):
        return iterable
    if (
        isinstance(target, TupleExpr)
        and len(target.items) == 2
        and isinstance(target.items[1], NameExpr)
        and target.items[1].name == name
        and isinstance(iterable, CallExpr)
        and isinstance(iterable.callee, NameExpr)
        and iterable.callee.name == "enumerate"
        and iterable.args
    ):
        return iterable.args[0]
    return None


def _rooted_at(expr: Expression, name: str) -> bool:
    while isinstance(expr, (CallExpr, MemberExpr)):
        expr = expr.callee if isinstance(expr, CallExpr) else expr.expr
    return isinstance(expr, NameExpr) and expr.name == name


def _is_class(expr: Expression) -> bool:
    return isinstance(expr, RefExpr) and isinstance(expr.node, TypeInfo)


def _custom_get_queryset(member: MemberExpr) -> bool:
    """`Book.objects` is a project manager whose get_queryset() may eager-load: unknown."""
    owner = member.expr.node if isinstance(member.expr, RefExpr) else None
    symbol = owner.get(member.name) if isinstance(owner, TypeInfo) else None
    node = symbol.node if symbol is not None else None
    manager = get_proper_type(node.type) if isinstance(node, Var) and node.type is not None else None
    if not isinstance(manager, Instance):
        return False
    return any("get_queryset" in base.names and not base.fullname.startswith("django.") for base in manager.type.mro)


def _is_manager_root(member: MemberExpr) -> bool:
    return member.name in _MANAGER_ROOTS and _is_class(member.expr)


def _keyword(call: CallExpr, name: str) -> Expression | None:
    for arg_name, arg in zip(call.arg_names, call.args):
        if arg_name == name:
            return arg
    return None


def _option_loads(options: list[Expression]) -> Loads:
    """`joinedload(A.b)`, `selectinload(A.b).joinedload(B.c)`, `joinedload(A.b, B.c)`, `Load(A).x(...)`."""
    loads: Loads = {}
    for option in options:
        if isinstance(option, (StarExpr, NameExpr)) or not isinstance(option, CallExpr):
            return {EVERYTHING: {}}  # built elsewhere: assume it loads what is needed
        path = _option_path(option)
        if path is None:
            return {EVERYTHING: {}}
        loads = union(loads, _path(*path)) if path else loads
    return loads


def _option_path(option: CallExpr) -> list[str] | None:
    """The relation path a loader option chain names, innermost first."""
    calls = []
    node: Expression = option
    while isinstance(node, CallExpr):
        calls.append(node)
        callee = node.callee
        node = callee.expr if isinstance(callee, MemberExpr) else callee
    path: list[str] = []
    for call in reversed(calls):
        name = call.callee.name if isinstance(call.callee, (NameExpr, MemberExpr)) else ""
        if name == "Load":
            continue
        if name not in sqlalchemy.LOADER_OPTIONS:
            return None
        for arg in call.args:
            if isinstance(arg, MemberExpr):
                path.append(arg.name)
            elif isinstance(arg, StrExpr):
                if arg.value == "*":
                    return None
                path.extend(arg.value.split("."))
    return path


class Deferral:
    """Columns a query leaves out: `only` (None: all), `deferred`, and `undeferred` overrides."""

    def __init__(
        self,
        only: frozenset[str] | None = None,
        deferred: frozenset[str] = frozenset(),
        undeferred: frozenset[str] = frozenset(),
        how: str = "",
    ) -> None:
        self.only, self.deferred, self.undeferred, self.how = only, deferred, undeferred, how

    def combined(self, other: Deferral) -> Deferral:
        only = other.only if self.only is None else self.only if other.only is None else self.only & other.only
        return Deferral(only, self.deferred | other.deferred, self.undeferred | other.undeferred, other.how or self.how)


_DJANGO_DEFERRING = frozenset({"only", "defer"})
_COLUMN_OPTIONS = frozenset({"load_only", "defer", "undefer"})


def _names(args: list[Expression]) -> frozenset[str]:
    return frozenset(
        a.value if isinstance(a, StrExpr) else a.name for a in args if isinstance(a, (StrExpr, MemberExpr))
    )


def _column_options(options: list[Expression]) -> Deferral | None:
    result = Deferral()
    for option in options:
        if not isinstance(option, CallExpr) or not isinstance(option.callee, (NameExpr, MemberExpr)):
            return None
        name = option.callee.name
        if name == "load_only":
            result = result.combined(Deferral(only=_names(option.args), how="load_only()"))
        elif name == "defer":
            result = result.combined(Deferral(deferred=_names(option.args), how="defer()"))
        elif name == "undefer":
            result = result.combined(Deferral(undeferred=_names(option.args)))
    return result


class DeferralTracer(Tracer):
    """Which columns the query that produced the items deferred."""

    def deferral(self, expr: Expression | None, depth: int = 0) -> Deferral | None:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, AwaitExpr):
            return self.deferral(expr.expr, depth + 1)
        if isinstance(expr, NameExpr):
            frames = self.function.loop_bindings.get(expr.name)
            if frames:
                if len(frames) != 1:
                    return None
                return self.deferral(item_source(frames[0].iterable, frames[0].target, expr.name), depth + 1)
            values = self.function.assignments.get(expr.name)
            if expr.name in self.function.params or not values or len(values) != 1:
                return None
            return self.deferral(values[0], depth + 1)
        if isinstance(expr, MemberExpr):
            return Deferral() if _is_manager_root(expr) else None
        if not isinstance(expr, CallExpr):
            return None
        callee = expr.callee
        if isinstance(callee, NameExpr):
            if callee.name in sqlalchemy.SELECT_FUNCTIONS:
                return Deferral()
            if callee.name in _PASS_THROUGH and expr.args:
                return self.deferral(expr.args[0], depth + 1)
            return None
        if not isinstance(callee, MemberExpr):
            return None
        method, receiver = callee.name, callee.expr
        if method in sqlalchemy.SELECT_FUNCTIONS and isinstance(receiver, NameExpr):
            return Deferral()
        if _is_session(receiver) and method in _SESSION_RUNNERS and expr.args:
            return self.deferral(expr.args[0], depth + 1)
        base = self.deferral(receiver, depth + 1)
        if base is None:
            return None
        if method in _DJANGO_DEFERRING:
            names = _names(expr.args)
            extra = (
                Deferral(only=names, how=".only()") if method == "only" else Deferral(deferred=names, how=".defer()")
            )
            return base.combined(extra)
        if method == "options":
            options = _column_options(expr.args)
            return None if options is None else base.combined(options)
        if method in _KEEP_LOADS or method in {"select_related", "prefetch_related"}:
            return base
        return None
