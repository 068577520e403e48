"""lazy-load-per-item: the model types show a relation loaded lazily once per loop item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mypy.nodes import Expression, MemberExpr, NameExpr, OverloadedFuncDef, TypeInfo, Var
from mypy.types import Instance, Type, UnionType, get_proper_type

from ...catalogue.correctness import LAZY_LOAD_THAT_RAISES
from ...catalogue.performance import LAZY_LOAD_PER_ITEM
from ...frameworks import fullnames, models
from ..eager_loading import Tracer, item_source, subtree
from ..function_map import Frame, FunctionMap, access_text
from ..model_facts import framework_of, relation_declaration
from ..registry import ANY_MODEL_ATTRIBUTE, Hook, HookCall, TypeFinding, type_check

_KIND_TEXT = {"object": "related object", "collection": "related collection", "manager": "related manager"}
# What reading the relation does, for the finding's `operation`.
_OPERATION = {"object": "lazy load", "collection": "lazy load", "manager": "related manager query"}


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
    declared = get_proper_type(node.type) if node.type is not None else None
    if isinstance(declared, Instance) and declared.type.name in {"DynamicMapped", "WriteOnlyMapped"}:
        return None  # reading it builds a query, it loads nothing
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


def relation_target(info: TypeInfo, attribute: str) -> TypeInfo | None:
    """The model a relation attribute leads to, from its declared type (`Mapped[list[Comment]]`)."""
    symbol = info.get(attribute)
    node = symbol.node if symbol is not None else None
    if not isinstance(node, Var) or node.type is None:
        return None
    for instance in _instances(node.type):
        if instance.args and instance.type.fullname.endswith(".Mapped"):
            instance = next(iter(_instances(instance.args[0])), instance)
        if instance.type.fullname in fullnames.COLLECTIONS and instance.args:
            instance = next(iter(_instances(instance.args[-1])), instance)
        if instance.type.fullname not in fullnames.COLLECTIONS:
            return instance.type
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


def loop_item(member: MemberExpr, function: FunctionMap) -> tuple[NameExpr, list[str], Frame] | None:
    """The loop variable the access starts from, the relations in between, and its loop."""
    frame = function.frame_of.get(id(member))
    rooted = _root(member) if frame is not None else None
    if rooted is None:
        return None
    root, path = rooted
    binding: Frame | None = frame
    while binding is not None and not binding.binds(root.name):
        binding = binding.parent
    if binding is None:
        return None  # not the item of an enclosing loop: loaded once
    return root, path, binding


def first_read_per_item(member: MemberExpr, function: FunctionMap) -> bool:
    """Once per item: a second read of the same relation is free, and so is a read on the way out."""
    if id(member) in function.leaving:
        return False
    frame = function.frame_of.get(id(member))
    return frame is None or function.first_access.get((id(frame), access_text(member))) == id(member)


def _type_of(api: Any, expr: Expression) -> TypeInfo | None:
    lookup = getattr(api, "lookup_type_or_none", None)
    found = get_proper_type(lookup(expr)) if lookup is not None else None
    return found.type if isinstance(found, Instance) else None


def back_to_iterated_parent(api: Any, binding: Frame, item: TypeInfo | None, attribute: str) -> bool:
    """`for line in order.lines: line.order`: the parent is loaded already (the identity map)."""
    iterable = binding.iterable
    if item is None or not isinstance(iterable, MemberExpr):
        return False
    declaration = relation_declaration(item, attribute)
    if declaration is None or iterable.name not in {declaration.get("back_populates"), declaration.get("backref")}:
        return False
    parent = _type_of(api, iterable.expr)
    target = relation_target(item, attribute)
    return parent is not None and target is not None and parent.has_base(target.fullname)


def lazy_load_finding(
    member: MemberExpr,
    function: FunctionMap,
    info: TypeInfo,
    kind: str | None,
    root: NameExpr,
    path: list[str],
    binding: Frame,
) -> TypeFinding | None:
    """lazy-load-per-item when the access is a lazy load per item, else None."""
    attribute = member.name
    if kind is None or id(member) in function.assigned or not first_read_per_item(member, function):
        return None
    if function.prefetches:
        return None  # prefetch_related_objects(...) loads relations on the items themselves
    declaration = relation_declaration(info, attribute)
    if kind == "manager" and function.method_on.get(id(member)) not in (None, "all"):
        return None  # `tag.books.count()` is an explicit query: reported as query-in-loop
    strategy = declaration["lazy"] if declaration else "select"
    if strategy not in models.LAZY_STRATEGIES:
        return None
    loads = Tracer(function).loads(item_source(binding.iterable, binding.target, root.name))
    if loads is None:
        return None  # where the items come from is not visible here: stay silent
    for name in path:
        loads = subtree(loads, name) or {}
    if subtree(loads, attribute) is not None:
        return None
    framework = framework_of(info)
    fix = _fix(kind, framework, info.name, attribute, path)
    message = LAZY_LOAD_PER_ITEM.format_message(
        access=".".join([root.name, *path, attribute]), kind=_KIND_TEXT[kind], fix=fix
    )
    return TypeFinding(
        LAZY_LOAD_PER_ITEM,
        message,
        member,
        framework=framework,
        model=info.name,
        attribute=attribute,
        operation=_OPERATION[kind],
        fix=fix,
    )


def _root(member: MemberExpr) -> tuple[NameExpr, list[str]] | None:
    path: list[str] = []
    root = member.expr
    while isinstance(root, MemberExpr):
        path.append(root.name)
        root = root.expr
    if not isinstance(root, NameExpr):
        return None
    path.reverse()
    return root, path


def _not_loaded(function: FunctionMap, root: NameExpr, path: list[str], attribute: str) -> bool:
    """The relation is known not to be loaded on this object (its query is visible)."""
    loads = Tracer(function).loads(root)
    if loads is None:
        return False
    for name in path:
        loads = subtree(loads, name) or {}
    return subtree(loads, attribute) is None


def _raising_reason(function: FunctionMap, framework: str | None, strategy: str) -> str | None:
    if strategy in models.RAISING_STRATEGIES:
        return f'the relationship is declared lazy="{strategy}", so reading it raises'
    if function.is_async and framework in {"sqlalchemy", "sqlmodel"} and strategy in models.LAZY_STRATEGIES:
        return "a lazy load cannot run in async code (it raises MissingGreenlet)"
    return None


def raising_load(
    member: MemberExpr, function: FunctionMap, info: TypeInfo, kind: str
) -> tuple[bool, TypeFinding | None]:
    """lazy-load-that-raises: (whether this access is that rule's business, its finding)."""
    declaration = relation_declaration(info, member.name)
    strategy = declaration["lazy"] if declaration else "select"
    framework = framework_of(info)
    reason = _raising_reason(function, framework, strategy)
    if reason is None:
        return False, None
    rooted = _root(member)
    if rooted is not None and _not_loaded(function, *rooted, member.name):
        root, path = rooted
        loader = "joinedload" if kind == "object" else "selectinload"
        fix = f"add .options({loader}({info.name}.{member.name})) to the query"
        message = LAZY_LOAD_THAT_RAISES.format_message(
            access=".".join([root.name, *path, member.name]), reason=reason, fix=fix
        )
        return True, TypeFinding(
            LAZY_LOAD_THAT_RAISES,
            message,
            member,
            framework=framework,
            model=info.name,
            attribute=member.name,
            operation=_OPERATION[kind],
            fix=fix,
        )
    return True, None


def read_member(call: HookCall) -> tuple[MemberExpr, Instance, FunctionMap, str | None] | None:
    """`item.attr` read (not assigned) inside a function, on a value whose type is known: the member, that type,
    the function's map and the relation kind of the attribute (None for a column or anything else)."""
    ctx = call.ctx
    member, receiver, function = ctx.context, get_proper_type(ctx.type), call.function
    if not isinstance(member, MemberExpr) or ctx.is_lvalue or not isinstance(receiver, Instance) or function is None:
        return None
    return member, receiver, function, relation_kind(receiver.type, member.name, ctx.default_attr_type)


@type_check(LAZY_LOAD_PER_ITEM, LAZY_LOAD_THAT_RAISES, hook=Hook.ATTRIBUTE, target=ANY_MODEL_ATTRIBUTE)
def lazy_load_per_item(call: HookCall) -> Iterator[TypeFinding]:
    """lazy-load-per-item and lazy-load-that-raises: the receiver's type is known here."""
    read = read_member(call)
    if read is None:
        return
    member, receiver, function, kind = read
    if kind is None:
        return
    ctx = call.ctx
    found: TypeFinding | None
    if id(member) in function.assigned:
        return
    raising, found = raising_load(member, function, receiver.type, kind)
    if found is not None:
        yield found
    if raising:
        return
    item = loop_item(member, function)
    if item is None:
        return
    root, path, binding = item
    item_type = _type_of(ctx.api, root)
    if back_to_iterated_parent(ctx.api, binding, item_type, path[0] if path else member.name):
        return  # `line.order` or `line.order.customer`: one parent object, loaded once
    found = lazy_load_finding(member, function, receiver.type, kind, root, path, binding)
    if found is not None:
        yield found
