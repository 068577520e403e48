"""relation-loaded-per-item through per-object hooks a framework runs over a query: a Django REST framework
list view's serializer, a Django syndication feed's `item_*` methods.

The view says which queryset it lists (`queryset = ...` or `get_queryset()`) and which serializer renders
each object (`serializer_class`); the project index says what that serializer reads on each object
(nested serializers, `source="author.name"`, `get_<field>(self, obj)`) and which of those are relations.
A feed lists what `items()` returns and calls each `item_<field>(self, item)` on every item.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.performance import QUERY_IN_LOOP, RELATION_LOADED_PER_ITEM
from ...project import ProjectIndex, Relation
from ...project.model_facts import is_list_view, is_serializer, listed_serializers, serializer_class, serializer_reads
from ...project.statements import always_run, base_names, called_name, named_assignment
from ..items import PER_ITEM_STRATEGIES, loaded_by
from ..queries import call_name, describe_query, unchain
from ..registry import Report, check
from ..render import short_call
from ..scope import ModuleIndex, Scope
from .loops import per_iteration_query


@check(RELATION_LOADED_PER_ITEM, runs_on_tests=False)
def relation_loaded_per_serialized_item(index: ModuleIndex) -> Iterator[Report]:
    """relation-loaded-per-item: a list view's serializer reads relations its queryset does not load."""
    project = index.project
    local = None
    for cls in index.classes:
        if not is_list_view(cls):
            continue
        name = serializer_class(cls)
        queryset = _class_attributes(cls).get("queryset") or _returned_queryset(cls)
        if name is None or queryset is None:
            continue
        if local is None:
            local = _local_serializers(index)
        reads = local.get(name, project.serializers.get(name))
        if reads:
            yield from _unloaded_reads(
                queryset,
                f"{name} reading",
                reads,
                index.module,
                project,
                "the view's queryset",
                _attribute_target(cls, "queryset"),
            )


@check(RELATION_LOADED_PER_ITEM, runs_on_tests=False)
def relation_loaded_per_item_serialized_here(index: ModuleIndex) -> Iterator[Report]:
    """relation-loaded-per-item: `ProgramSerializer(programs, many=True)` over a query that does not load what
    the serializer reads on each object."""
    local = _local_serializers(index)
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            name = call_name(call) or ""
            if not name.endswith("Serializer") or not call.args:
                continue
            if not any(
                k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
            ):
                continue
            reads = local.get(name, index.project.serializers.get(name))
            if reads:
                query = _bound_query(call.args[0], scope)
                yield from _unloaded_reads(query, f"{name} reading", reads, scope, index.project, "the query")


@check(RELATION_LOADED_PER_ITEM, runs_on_tests=False)
def relation_loaded_per_feed_item(index: ModuleIndex) -> Iterator[Report]:
    """relation-loaded-per-item: a Django feed's `item_*` hooks read relations its `items()` query does not load."""
    for cls in index.classes:
        if "Feed" not in base_names(cls):
            continue
        items = index.module.functions.get((cls.name, "items"))
        if items is None or len(items.returns) != 1 or items.returns[0].value is None:
            continue
        reads: set[str] = set()
        for stmt in cls.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("item_") and len(stmt.args.args) >= 2:
                item = stmt.args.args[1].arg
                reads |= {
                    node.attr
                    for node in always_run(stmt.body)
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == item
                }
        if reads:
            query = items.returns[0].value
            yield from _unloaded_reads(
                query, f"{cls.name}.item_* reading", frozenset(reads), items, index.project, "the query items() returns"
            )


@check(QUERY_IN_LOOP, runs_on_tests=False)
def query_per_serialized_object(index: ModuleIndex) -> Iterator[Report]:
    """query-in-loop: a serializer some view renders many objects with runs a query in a method that Django REST
    framework calls once per object (`get_<field>` of a `SerializerMethodField`, `to_representation`)."""
    serializers = [c for c in index.classes if is_serializer(c)]
    if not serializers:
        return
    listed = index.project.listed_serializers
    if not all(c.name in listed for c in serializers):
        listed = listed | set(listed_serializers(index.tree))  # this module's own list views, before the index has them
    for cls in serializers:
        if cls.name not in listed:
            continue
        for method in _per_object_methods(cls):
            scope = index.module.functions.get((cls.name, method))
            if scope is None:
                continue
            item = _object_parameter(scope)
            for site in scope.calls:
                if site.frame is not None:
                    continue  # inside a loop of the method: query-in-loop's own finding
                verdict = per_iteration_query(site.node, scope)
                if verdict is None or _prefetch_may_serve(site.node, item):
                    continue
                method_name, framework = verdict
                yield Report(
                    QUERY_IN_LOOP,
                    site.node,
                    {
                        "call": short_call(site.node),
                        "per": f"for every object Django REST framework lists with {cls.name}.{method}",
                        "scale": " (a page of them when the view paginates)",
                        "batch": _SERIALIZER_BATCH,
                    },
                    lowered_by=1,  # how many objects a list shows is the view's pagination, not seen here
                    framework=framework,
                    operation=method_name,
                )


_SERIALIZER_BATCH = (
    "load it for every object at once with the view's queryset (a Prefetch(..., to_attr=...) or an annotate()) "
    "and read that here"
)
# Reads that a related manager of the serialized object answers from a prefetch the view may have made (the
# view is not seen here); `first()`/`last()` only when the relation is ordered, which the index does not say.
_PREFETCH_SERVED = frozenset({"count", "exists", "first", "last"})


def _per_object_methods(cls: ast.ClassDef) -> list[str]:
    """The methods DRF calls once per object: each `SerializerMethodField`'s method, and `to_representation`."""
    methods = ["to_representation"]
    for stmt in cls.body:
        target, _, value = named_assignment(stmt)
        if target is not None and isinstance(value, ast.Call) and called_name(value) == "SerializerMethodField":
            named = next((k.value for k in value.keywords if k.arg == "method_name"), None)
            if named is None and value.args:
                named = value.args[0]
            given = named.value if isinstance(named, ast.Constant) and isinstance(named.value, str) else None
            methods.append(given or f"get_{target}")
    return methods


def _object_parameter(method: Scope) -> str | None:
    """The serialized object's parameter: `obj` of `get_x(self, obj)`, `instance` of `to_representation`."""
    node = method.node
    arguments = node.args.args if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    return arguments[1].arg if len(arguments) >= 2 else None


def _prefetch_may_serve(call: ast.Call, item: str | None) -> bool:
    """`obj.tags.count()`, `obj.tags.all().exists()` on the serialized object: no query when the view prefetched
    `tags` (`Tag.objects.count()` is a query whatever the view loaded)."""
    if call_name(call) not in _PREFETCH_SERVED or call.args or not isinstance(call.func, ast.Attribute):
        return False
    root, steps = unchain(call.func.value)
    if not (isinstance(root, ast.Name) and root.id == item and steps):
        return False
    return all(step.name == "all" for step in steps[1:])


def _unloaded_reads(
    queryset: ast.expr,
    reader: str,
    reads: frozenset[str],
    scope: Scope,
    project: ProjectIndex,
    where: str,
    at: ast.AST | None = None,
) -> Iterator[Report]:
    """`at`: where to report, when not at the query itself (a view's `queryset` attribute)."""
    shape = describe_query(queryset, scope)
    model = project.model(shape.entity if shape is not None else None)
    loaded = loaded_by(shape, project) if shape is not None else None
    if shape is None or model is None or shape.framework != "django" or loaded is None:
        return
    by_loader: dict[str, list[str]] = {}
    for attribute in sorted(reads):
        relation: Relation | None = model.relations.get(attribute)
        if relation is None or attribute in loaded or relation.lazy not in PER_ITEM_STRATEGIES:
            continue
        loader = "prefetch_related" if relation.many or relation.generic else "select_related"
        by_loader.setdefault(loader, []).append(attribute)
    if not by_loader:
        return
    read = sorted(a for attributes in by_loader.values() for a in attributes)
    calls = " and ".join(
        f"{loader}({', '.join(_quoted(a) for a in attributes)})"
        for loader, attributes in sorted(by_loader.items(), reverse=True)
    )
    yield Report(
        RELATION_LOADED_PER_ITEM,
        at or queryset,
        {
            "access": f"{reader} {', '.join('.' + a for a in read)}",
            "iterable": short_call(queryset),
            "fix": f"add {calls} to {where}",
        },
        model=shape.entity,
        attribute=", ".join(read),
    )


def _bound_query(argument: ast.expr, scope: Scope) -> ast.expr:
    """The query a local holds (`programs = catalog.programs().marketable()`): the finding goes where it is built."""
    if isinstance(argument, ast.Name):
        values = scope.values_of(argument.id)
        if values and len(values) == 1:
            return values[0]
    return argument


def _local_serializers(index: ModuleIndex) -> dict[str, frozenset[str]]:
    """This module's serializers as the editor has them, before the saved index sees the file."""
    return {c.name: frozenset(serializer_reads(c)) for c in index.classes if is_serializer(c)}


def _quoted(name: str) -> str:
    return f'"{name}"'


def _attribute_target(cls: ast.ClassDef, name: str) -> ast.AST | None:
    """The `queryset` of `queryset = (...)`: a multi-line query is reported where the attribute is named."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    return target
    return None


def _class_attributes(cls: ast.ClassDef) -> dict[str, ast.expr]:
    return {
        target.id: stmt.value
        for stmt in cls.body
        if isinstance(stmt, ast.Assign)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }


def _returned_queryset(cls: ast.ClassDef) -> ast.expr | None:
    """The query `get_queryset(self)` returns, when it returns one expression."""
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "get_queryset":
            returns = [n.value for n in ast.walk(stmt) if isinstance(n, ast.Return) and n.value is not None]
            return returns[0] if len(returns) == 1 else None
    return None
