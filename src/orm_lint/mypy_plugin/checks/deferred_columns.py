"""deferred-column-per-item: a column the query left out (`only()`, `load_only()`, `defer()`) read per loop item."""

from __future__ import annotations

from collections.abc import Iterator

from mypy.nodes import MemberExpr, TypeInfo, Var
from mypy.types import Instance, get_proper_type

from ...catalogue.performance import DEFERRED_COLUMN_PER_ITEM
from ..eager_loading import DeferralTracer, item_source
from ..function_map import FunctionMap
from ..model_facts import column_declaration, framework_of
from ..registry import ANY_MODEL_ATTRIBUTE, Hook, HookCall, TypeFinding, type_check
from .lazy_loads import first_read_per_item, loop_item, read_member


@type_check(DEFERRED_COLUMN_PER_ITEM, hook=Hook.ATTRIBUTE, target=ANY_MODEL_ATTRIBUTE)
def deferred_column_per_item(call: HookCall) -> Iterator[TypeFinding]:
    """deferred-column-per-item: a column (not a relation, lazy-load-per-item's) read per item of a loop here."""
    read = read_member(call)
    if read is None:
        return
    member, receiver, function, kind = read
    if kind is not None or id(member) not in function.frame_of:
        return  # a relation is lazy-load-per-item's; only reads inside a loop matter here
    found = deferred_column(member, function, receiver.type)
    if found is not None:
        yield found


def _is_mapped_column(info: TypeInfo, attribute: str) -> bool:
    symbol = info.get(attribute)
    node = symbol.node if symbol is not None else None
    if not isinstance(node, Var) or node.is_property:
        return False
    declared = get_proper_type(node.type) if node.type is not None else None
    if framework_of(info) == "django":
        return True  # a model field: django-stubs declares them as Vars
    return isinstance(declared, Instance) and declared.type.fullname.endswith(".Mapped")


def deferred_column(member: MemberExpr, function: FunctionMap, info: TypeInfo) -> TypeFinding | None:
    """deferred-column-per-item: a column the query left out, read per loop item."""
    item = loop_item(member, function)
    if item is None or item[1] or id(member) in function.assigned or not first_read_per_item(member, function):
        return None
    root, _, binding = item
    attribute = member.name
    if attribute in {"id", "pk"} or not _is_mapped_column(info, attribute):
        return None
    column = column_declaration(info, attribute) or {}
    if column.get("primary"):
        return None
    deferral = DeferralTracer(function).deferral(item_source(binding.iterable, binding.target, root.name))
    if deferral is None or attribute in deferral.undeferred:
        return None
    how = None
    if attribute in deferral.deferred:
        how = deferral.how or "defer()"
    elif deferral.only is not None and attribute not in deferral.only:
        if not (attribute.endswith("_id") and attribute[:-3] in deferral.only):
            how = deferral.how or "only()"
    elif column.get("deferred"):
        how = "deferred on the model"
    if how is None:
        return None
    framework = framework_of(info)
    fix = (
        f'add "{attribute}" to .only(...)'
        if framework == "django"
        else f"load it with the query: .options(undefer({info.name}.{attribute})) or add it to load_only()"
    )
    message = DEFERRED_COLUMN_PER_ITEM.format_message(access=f"{root.name}.{attribute}", how=how, fix=fix)
    return TypeFinding(
        DEFERRED_COLUMN_PER_ITEM,
        message,
        member,
        framework=framework,
        model=info.name,
        attribute=attribute,
        operation="deferred column",
        fix=fix,
    )
