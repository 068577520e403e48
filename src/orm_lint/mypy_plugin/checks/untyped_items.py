"""Loops over items that mypy types as `Any` (Flask-SQLAlchemy's `paginate()`, `one_or_404()`,
`Model.query`): the attribute hook never fires on them, so the model is recovered from the
query itself (`select(Post)`, `Post.query`, `get_or_404(Post, ...)`) and the loop's accesses
are checked against that model's declarations.
"""

from __future__ import annotations

from collections.abc import Iterator

from mypy.nodes import CallExpr, Expression, MemberExpr, NameExpr, RefExpr, TypeInfo, Var
from mypy.types import Instance, get_proper_type

from ...catalogue.performance import LAZY_LOAD_PER_ITEM
from ...frameworks import sqlalchemy
from ..eager_loading import item_source
from ..function_map import FunctionMap
from ..registry import Hook, HookCall, TypeFinding, type_check
from .lazy_loads import lazy_load_finding, loop_item, relation_kind, relation_target

# Methods typed as returning `Any` whose call marks a function worth sweeping.
UNTYPED_SOURCES = frozenset(
    {
        "flask_sqlalchemy.extension.SQLAlchemy.paginate",
        "flask_sqlalchemy.extension.SQLAlchemy.one_or_404",
        "flask_sqlalchemy.extension.SQLAlchemy.first_or_404",
        "flask_sqlalchemy.extension.SQLAlchemy.get_or_404",
        *(
            f"flask_sqlalchemy.query.Query.{method}"
            for method in (
                "all",
                "first",
                "one",
                "one_or_none",
                "paginate",
                "first_or_404",
                "one_or_404",
                "get_or_404",
                "get",
            )
        ),
    }
)
_KEEP = sqlalchemy.STATEMENT_METHODS | sqlalchemy.RESULT_METHODS | sqlalchemy.QUERY_TERMINAL_METHODS
_MAX_DEPTH = 10


def _class(expr: Expression) -> TypeInfo | None:
    return expr.node if isinstance(expr, RefExpr) and isinstance(expr.node, TypeInfo) else None


class EntityTracer:
    """Which model the items of an expression are instances of."""

    def __init__(self, function: FunctionMap) -> None:
        self.function = function

    def entity(self, expr: Expression | None, depth: int = 0) -> TypeInfo | None:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, NameExpr):
            return self._name(expr, depth)
        if isinstance(expr, MemberExpr):
            if expr.name == "query":
                return _class(expr.expr)
            if expr.name == "items":
                return self.entity(expr.expr, depth + 1)
            owner = self.entity(expr.expr, depth + 1)
            return relation_target(owner, expr.name) if owner is not None else None
        if not isinstance(expr, CallExpr):
            return None
        callee = expr.callee
        name = callee.name if isinstance(callee, (NameExpr, MemberExpr)) else ""
        if name in sqlalchemy.SELECT_FUNCTIONS:
            return _class(expr.args[0]) if len(expr.args) == 1 else None
        if name in {"list", "sorted", "tuple", "reversed"} and expr.args and isinstance(callee, NameExpr):
            return self.entity(expr.args[0], depth + 1)
        if not isinstance(callee, MemberExpr):
            return None
        if name in sqlalchemy.SESSION_GETTERS and expr.args and _class(expr.args[0]) is not None:
            return _class(expr.args[0])
        if name in sqlalchemy.ITEM_RUNNERS and expr.args:
            return self.entity(expr.args[0], depth + 1)
        if name == "scalars" and isinstance(callee.expr, CallExpr) and isinstance(callee.expr.callee, MemberExpr):
            inner = callee.expr
            if inner.callee.name == "execute" and inner.args:  # type: ignore[union-attr]
                return self.entity(inner.args[0], depth + 1)
        if name in _KEEP and name != "execute":
            return self.entity(callee.expr, depth + 1)
        return None

    def _name(self, name: NameExpr, depth: int) -> TypeInfo | None:
        frames = self.function.loop_bindings.get(name.name)
        if frames:
            if len(frames) != 1:
                return None
            return self.entity(item_source(frames[0].iterable, frames[0].target, name.name), depth + 1)
        values = self.function.assignments.get(name.name)
        if not values or name.name in self.function.params:
            return None
        found = {self.entity(v, depth + 1) for v in values}
        return found.pop() if len(found) == 1 else None


@type_check(LAZY_LOAD_PER_ITEM, hook=Hook.METHOD, target=UNTYPED_SOURCES, once_per_function=True)
def lazy_load_per_untyped_item(call: HookCall) -> Iterator[TypeFinding]:
    """lazy-load-per-item on loop items typed `Any`: every access on one whose model the query names."""
    function = call.function
    if function is None:
        return
    tracer = EntityTracer(function)
    for member in function.members_in_loops:
        item = loop_item(member, function)
        if item is None:
            continue
        root, path, binding = item
        info = tracer.entity(item_source(binding.iterable, binding.target, root.name))
        for name in path:
            info = relation_target(info, name) if info is not None else None
        if info is None:
            continue
        symbol = info.get(member.name)
        node = symbol.node if symbol is not None else None
        if not isinstance(node, Var) or node.type is None:
            continue
        declared = get_proper_type(node.type)
        attribute_type = (
            declared.args[0]
            if isinstance(declared, Instance) and declared.type.fullname.endswith(".Mapped") and declared.args
            else node.type
        )
        kind = relation_kind(info, member.name, attribute_type)
        found = lazy_load_finding(member, function, info, kind, root, path, binding)
        if found is not None:
            yield found
