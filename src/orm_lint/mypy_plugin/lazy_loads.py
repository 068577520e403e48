"""lazy-load-per-item: the model types show a relation loaded lazily once per loop item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy.nodes import MemberExpr, NameExpr, OverloadedFuncDef, TypeInfo, Var
from mypy.plugin import AttributeContext
from mypy.types import Instance, Type, UnionType, get_proper_type

from ..catalogue.performance import LAZY_LOAD_PER_ITEM
from ..frameworks import fullnames, models
from .eager_loading import Tracer, _item_source, subtree
from .errorcodes import CODES
from .function_map import Frame, FunctionMap
from .model_facts import framework_of, relation_declaration
from .reporting import report

if TYPE_CHECKING:
    from collections.abc import Callable

CODE = CODES[LAZY_LOAD_PER_ITEM.code]
_KIND_TEXT = {"object": "related object", "collection": "related collection", "manager": "related manager"}


def _instances(t: Type) -> list[Instance]:
    proper = get_proper_type(t)
    if isinstance(proper, UnionType):
        return [i for item in proper.items for i in _instances(item)]
    return [proper] if isinstance(proper, Instance) else []


def _has_base(info: TypeInfo, names: frozenset[str] | set[str]) -> bool:
    return any(base.fullname in names for base in info.mro)


def _is_mapped(info: TypeInfo) -> bool:
    return _has_base(info, fullnames.SQLALCHEMY_BASES) or (
        _has_base(info, {fullnames.SQLMODEL_BASE}) and bool(info.metadata.get("orm_lint", {}).get("table"))
    )


def relation_kind(info: TypeInfo, attribute: str, attribute_type: Type) -> str | None:
    """'object', 'collection' or 'manager' when the types say the attribute is a relation."""
    symbol = info.get(attribute)
    node = symbol.node if symbol is not None else None
    if not isinstance(node, Var) or node.is_property or isinstance(node, OverloadedFuncDef):
        return None
    framework = framework_of(info)
    instances = _instances(attribute_type)
    if not instances:
        return None
    if framework == "django":
        if any(_has_base(i.type, fullnames.DJANGO_RELATED_MANAGERS) for i in instances):
            return "manager"
        if any(_has_base(i.type, {fullnames.DJANGO_MODEL}) for i in instances):
            return "object"
        return None
    declared = relation_declaration(info, attribute) is not None
    if any(i.type.fullname == fullnames.RELATIONSHIP_PROPERTY for i in instances):
        return "object"
    if framework == "sqlmodel" and not declared:
        return None
    for instance in instances:
        if instance.type.fullname in fullnames.COLLECTIONS and instance.args:
            items = _instances(instance.args[-1])
            if items and (declared or _is_mapped(items[0].type)):
                return "collection"
        elif declared or _is_mapped(instance.type):
            return "object"
    return None


def _fix(kind: str, framework: str | None, owner: str, attribute: str, path: list[str]) -> str:
    if framework == "django":
        lookup = "__".join([*path, attribute])
        if kind == "object":
            return f'add select_related("{lookup}") to the query'
        return f'add prefetch_related("{lookup}") to the query'
    loader = "joinedload" if kind == "object" else "selectinload"
    if path:
        return (
            f"load it with the query: chain .{loader}({owner}.{attribute}) onto the loader option for {'.'.join(path)}"
        )
    return f"add .options({loader}({owner}.{attribute})) to the query"


def _loop_item(member: MemberExpr, function: FunctionMap) -> tuple[NameExpr, list[str], Frame] | None:
    """The loop variable the access starts from, the relations in between, and its loop."""
    frame = function.frame_of.get(id(member))
    if frame is None:
        return None
    path: list[str] = []
    root = member.expr
    while isinstance(root, MemberExpr):
        path.append(root.name)
        root = root.expr
    if not isinstance(root, NameExpr):
        return None
    path.reverse()
    binding: Frame | None = frame
    while binding is not None and not binding.binds(root.name):
        binding = binding.parent
    if binding is None:
        return None  # not the item of an enclosing loop: loaded once
    return root, path, binding


def lazy_load_message(
    member: MemberExpr,
    function: FunctionMap,
    info: TypeInfo,
    kind: str | None,
    root: NameExpr,
    path: list[str],
    binding: Frame,
) -> str | None:
    """The finding's message when the access is a lazy load per item, else None."""
    attribute = member.name
    if kind is None or id(member) in function.assigned:
        return None
    if kind == "manager" and function.method_on.get(id(member)) not in (None, "all"):
        return None  # `tag.books.count()` is an explicit query: reported as query-in-loop
    declaration = relation_declaration(info, attribute)
    strategy = declaration["lazy"] if declaration else "select"
    if strategy not in models.LAZY_STRATEGIES:
        return None
    loads = Tracer(function).loads(_item_source(binding.iterable, binding.target, root.name))
    if loads is None:
        return None  # where the items come from is not visible here: stay silent
    for name in path:
        loads = subtree(loads, name) or {}
    if subtree(loads, attribute) is not None:
        return None
    return LAZY_LOAD_PER_ITEM.format_message(
        access=".".join([root.name, *path, attribute]),
        kind=_KIND_TEXT[kind],
        fix=_fix(kind, framework_of(info), info.name, attribute, path),
    )


def check_lazy_load(ctx: AttributeContext, function_map: Callable[[], FunctionMap | None]) -> None:
    """The attribute hook's check: the receiver's type is known here."""
    member = ctx.context
    if not isinstance(member, MemberExpr) or ctx.is_lvalue:
        return
    receiver = get_proper_type(ctx.type)
    if not isinstance(receiver, Instance):
        return
    function = function_map()
    if function is None:
        return
    item = _loop_item(member, function)
    if item is None:
        return
    root, path, binding = item
    kind = relation_kind(receiver.type, member.name, ctx.default_attr_type)
    message = lazy_load_message(member, function, receiver.type, kind, root, path, binding)
    if message is not None:
        report(ctx.api, message, member, CODE)
