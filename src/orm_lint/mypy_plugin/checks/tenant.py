"""query-without-tenant-filter (opt-in): reads of a tenant-owned model that never filter on the tenant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mypy.nodes import CallExpr, Expression, MemberExpr, NameExpr, RefExpr, TypeInfo, Var

from ...catalogue.security import QUERY_WITHOUT_TENANT_FILTER
from ...config import Settings
from ...tests_scope import is_test_path
from ..function_map import FunctionMap
from ..model_facts import framework_of
from ..registry import Hook, HookCall, ModelMember, TypeFinding, type_check

SELECT_FUNCTIONS = frozenset(
    {"sqlalchemy.sql._selectable_constructors.select", "sqlmodel.sql._expression_select_gen.select"}
)
QUERY_METHODS = frozenset({"sqlalchemy.orm.session.Session.query", "sqlalchemy.orm.scoping.scoped_session.query"})
# Calls that run the query they are given: handing the query to them is not an escape.
_RUNNERS = frozenset(
    {
        "execute",
        "scalars",
        "scalar",
        "exec",
        "paginate",
        "one_or_404",
        "first_or_404",
        "list",
        "len",
        "sorted",
        "tuple",
        "set",
        "iter",
        "enumerate",
        "Paginator",
        "get_object_or_404",
        "get_list_or_404",
    }
)


# Methods whose result is rows or a value: the query has run.
_EVALUATING = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "count",
        "get",
        "exists",
        "last",
        "latest",
        "earliest",
        "aggregate",
        "in_bulk",
        "values_list",
        "delete",
        "update",
        "first_or_404",
        "one_or_404",
        "get_or_404",
    }
)


def model_of_query_root(node: Expression) -> TypeInfo | None:
    """`select(Invoice)`, `select(Invoice.id)`, `session.query(Invoice)`, `Invoice.objects`."""
    if isinstance(node, MemberExpr):
        owner = node.expr
    elif isinstance(node, CallExpr) and node.args:
        owner = node.args[0]
        if isinstance(owner, MemberExpr) and isinstance(owner.expr, RefExpr):
            owner = owner.expr
    else:
        return None
    return owner.node if isinstance(owner, RefExpr) and isinstance(owner.node, TypeInfo) else None


def has_tenant_column(info: TypeInfo, column: str) -> bool:
    for name in (column, column.removesuffix("_id")):
        symbol = info.get(name)
        if symbol is not None and isinstance(symbol.node, Var):
            return True
    return False


def _mentions(call: CallExpr, column: str) -> bool:
    """A filter argument naming the tenant column (`Model.account_id == x`, `account=`, `account__in=`)."""
    relation = column.removesuffix("_id")
    for name in call.arg_names:
        if name and (name in {column, relation} or name.startswith((f"{column}__", f"{relation}__"))):
            return True
    stack: list[Any] = list(call.args)
    while stack:
        node = stack.pop()
        if isinstance(node, MemberExpr):
            if node.name in {column, relation}:
                return True
            stack.append(node.expr)
        elif isinstance(node, CallExpr):
            stack.extend([node.callee, *node.args])
        elif hasattr(node, "operands"):
            stack.extend(node.operands)
        elif hasattr(node, "left") and hasattr(node, "right"):
            stack.extend([node.left, node.right])
    return False


def _chain_top(node: Expression, function: FunctionMap) -> tuple[Expression, list[CallExpr]]:
    calls = []
    while id(node) in function.call_on:
        node = function.call_on[id(node)]
        calls.append(node)  # type: ignore[arg-type]
    return node, calls  # type: ignore[return-value]


_PRIVILEGE_FLAGS = frozenset({"is_superuser", "is_staff", "is_admin"})


def _object_in_hand(call: CallExpr) -> bool:
    """`filter(id=check.id)` / `where(Model.id == other.check_id)`: the row of an object already loaded."""
    for name, arg in zip(call.arg_names, call.args):
        if name in {"id", "pk"} and isinstance(arg, MemberExpr):
            return True
    for arg in call.args:
        operands = getattr(arg, "operands", None) or []
        if len(operands) == 2 and all(isinstance(o, MemberExpr) for o in operands):
            if {operands[0].name, operands[1].name} & {"id", "pk"}:  # type: ignore[union-attr]
                return True
    return False


def _tenant_configured(settings: Settings) -> bool:
    return bool(settings.tenant_column)


@type_check(QUERY_WITHOUT_TENANT_FILTER, hook=Hook.METHOD, target=QUERY_METHODS, active=_tenant_configured)
@type_check(QUERY_WITHOUT_TENANT_FILTER, hook=Hook.FUNCTION, target=SELECT_FUNCTIONS, active=_tenant_configured)
@type_check(
    QUERY_WITHOUT_TENANT_FILTER, hook=Hook.CLASS_ATTRIBUTE, target=ModelMember("objects"), active=_tenant_configured
)
def query_without_tenant_filter(call: HookCall) -> Iterator[TypeFinding]:
    """query-without-tenant-filter: a read of a tenant-owned model from one of its query roots."""
    column, function = call.settings.tenant_column, call.function
    if column and function is not None:
        found = _unfiltered_read(getattr(call.ctx.api, "path", "") or "", call.ctx.context, function, column)
        if found is not None:
            yield found


def _unfiltered_read(path: str, root: Expression, function: FunctionMap, column: str) -> TypeFinding | None:
    info = model_of_query_root(root)
    if info is None or not has_tenant_column(info, column) or is_test_path(path):
        return None
    if {column, column.removesuffix("_id")} & function.attribute_names - {_describe_name(root)}:
        return None  # the tenant is checked in the function (fetch, then authorise)
    if function.attribute_names & _PRIVILEGE_FLAGS:
        return None  # a deliberate cross-tenant read behind an admin check
    top, calls = _chain_top(root, function)
    tops = [top]
    name = function.assigned_to.get(id(top))
    if name is not None:
        # `stmt = select(...)`, later `stmt = stmt.where(...)` or `session.scalars(stmt.where(...))`
        for call in function.calls:
            receiver = call.callee.expr if isinstance(call.callee, MemberExpr) else None
            while isinstance(receiver, CallExpr) and isinstance(receiver.callee, MemberExpr):
                receiver = receiver.callee.expr
            if isinstance(receiver, NameExpr) and receiver.name == name:
                calls.append(call)
        tops += [call for call in function.calls if any(isinstance(a, NameExpr) and a.name == name for a in call.args)]
    if any(_mentions(call, column) or _called(call) == "none" or _object_in_hand(call) for call in calls):
        return None
    executed = bool(calls) and isinstance(top, CallExpr) and _called(top) in _EVALUATING
    for candidate in tops:
        if id(candidate) in function.returned and not (candidate is top and executed):
            return None  # the caller may add the filter
        runner = function.argument_of.get(id(candidate))
        if runner is not None:
            if _called(runner) not in _RUNNERS:
                return None  # handed to a helper that may add the filter
    fix = f"filter on {column} (or mark a deliberate cross-tenant read with a type: ignore)"
    message = QUERY_WITHOUT_TENANT_FILTER.format_message(query=_describe(root), model=info.name, column=column, fix=fix)
    return TypeFinding(
        QUERY_WITHOUT_TENANT_FILTER,
        message,
        root,
        framework=framework_of(info),
        model=info.name,
        attribute=column,
        operation=_describe_name(root) or (_called(root) if isinstance(root, CallExpr) else None),
        fix=fix,
    )


def _describe_name(root: Expression) -> str:
    return root.name if isinstance(root, MemberExpr) else ""


def _called(call: CallExpr) -> str:
    callee = call.callee
    return callee.name if isinstance(callee, (NameExpr, MemberExpr)) else ""


def _describe(root: Expression) -> str:
    if isinstance(root, MemberExpr) and isinstance(root.expr, RefExpr):
        return f"{root.expr.name}.{root.name}"
    if isinstance(root, CallExpr) and isinstance(root.callee, (NameExpr, MemberExpr)):
        return f"{root.callee.name}(...)"
    return "this query"
