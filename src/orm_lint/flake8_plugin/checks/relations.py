"""relation-loaded-per-item: an N+1 visible in one function.

A loop's items are known when the loop runs over a query built in the function, over a
related collection of an object the function loaded (`post.comments`, `publisher.books.all()`),
or over a page of such a query. Which attributes are relations comes from the project index
(every model of the project, from source); for a model the index does not know, only what
syntax alone shows to be a relation is reported. Everything else is left to the mypy plugin.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from collections.abc import Iterator

from ...catalogue.performance import RELATION_LOADED_PER_ITEM

from ...frameworks import django, models
from ...project import ModelFacts, ProjectIndex, Relation
from ...project.statements import always_run
from ..queries import QueryShape, call_name, describe_query, imported_helper
from ..items import PER_ITEM_STRATEGIES, Items, indexed_loop_items, loop_item
from .loops import LoopScale, loop_scale
from ..registry import Report, check
from ..render import short_call
from ..scope import LoopFrame, ModuleIndex, Scope

# Attribute names that hold values, not related objects (`order.created_at.year`).
_VALUE_NAME_ENDINGS = (
    "_at",
    "_on",
    "_date",
    "_time",
    "_ts",
    "date",
    "time",
    "timestamp",
    "_id",
    "_ids",
    "_pk",
    "_url",
    "_path",
    "_file",
    "_json",
    "_data",
    "_range",
    "_count",
    "_status",
    "_type",
)
_VALUE_NAMES = frozenset(
    {
        "pk",
        "id",
        "uuid",
        "objects",
        "query",
        "created",
        "updated",
        "modified",
        "status",
        "state",
        "type",
        "kind",
        "data",
        "json",
        "meta",
        "metadata",
        "config",
        "settings",
        "options",
        "extra",
        "info",
        "payload",
        "attrs",
        "properties",
        "props",
        "name",
        "title",
        "email",
        "path",
        "url",
        "file",
        "image",
        "photo",
        "avatar",
        "picture",
        "logo",
        "document",
        "attachment",
        "upload",
        "thumbnail",
        "price",
        "amount",
        "total",
        "cost",
        "balance",
        "location",
        "point",
        "geom",
        "geometry",
        "coordinates",
        "range",
        "period",
        "duration",
        "delta",
        "interval",
        "money",
        "currency",
        "address",
        "phone",
        "slug",
        "text",
        "body",
        "content",
        "description",
        "value",
        "values",
        "labels",
        "tags_list",
    }
)
# Attributes of plain values (dates, files, enums, ranges, money) read after a field.
_VALUE_ATTRIBUTES = frozenset(
    {
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "microsecond",
        "tzinfo",
        "days",
        "seconds",
        "microseconds",
        "value",
        "label",
        "real",
        "imag",
        "hex",
        "url",
        "path",
        "size",
        "width",
        "height",
        "lower",
        "upper",
        "bounds",
        "x",
        "y",
        "srid",
        "coords",
        "amount",
        "currency",
        "closed",
        "mode",
        "encoding",
        "int",
        "bytes",
        "version",
    }
)


def _parents(roots: list[ast.AST]) -> dict[int, ast.AST]:
    parents: dict[int, ast.AST] = {}
    for root in roots:
        for node in ast.walk(root):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
    return parents


def _iterated_nodes(roots: list[ast.AST]) -> set[int]:
    ids: set[int] = set()
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                ids.add(id(node.iter))
    return ids


def _relation_use(
    access: ast.Attribute, parent: ast.AST | None, grandparent: ast.AST | None, iterated: set[int], shape: QueryShape
) -> str | None:
    """How the access follows a relation: 'object', 'manager', 'collection', or None."""
    relation = access.attr
    if relation.startswith("_"):
        return None
    if relation.endswith(django.REVERSE_MANAGER_SUFFIX) and shape.framework == "django":
        if isinstance(parent, ast.Attribute) and parent.attr == "all":
            return "manager"
        return None
    if isinstance(parent, ast.Attribute) and parent.value is access:
        is_method = isinstance(grandparent, ast.Call) and grandparent.func is parent
        if is_method:
            if parent.attr == "all" and not grandparent.args:  # type: ignore[union-attr]
                return "manager"
            return None
        if relation in _VALUE_NAMES or relation.endswith(_VALUE_NAME_ENDINGS):
            return None
        if parent.attr in _VALUE_ATTRIBUTES or parent.attr.startswith("_"):
            return None
        return "object"
    if id(access) in iterated and shape.framework == "sqlalchemy":
        if relation in _VALUE_NAMES or relation.endswith(_VALUE_NAME_ENDINGS):
            return None
        return "collection"
    return None


def _fix(use: str, relation: str, shape: QueryShape) -> str:
    if shape.framework == "django":
        if use == "object":
            return f'add select_related("{relation}") to the query'
        return f'add prefetch_related("{relation}") to the query'
    entity = shape.entity or "Model"
    loader = "joinedload" if use == "object" else "selectinload"
    return f"add .options({loader}({entity}.{relation})) to the query"


def lazy_relationships(index: ModuleIndex) -> set[tuple[str, str]]:
    """(class, attribute) of relationships declared in this module that load lazily (the default).

    SQLAlchemy models can make a relation eager where it is declared (`lazy="joined"`), so a
    relation counts only when its declaration is visible here and is lazy.
    """
    found: set[tuple[str, str]] = set()
    for cls in index.classes:
        for stmt in cls.body:
            target = (
                stmt.targets[0]
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                else getattr(stmt, "target", None)
            )
            value = getattr(stmt, "value", None)
            if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
                continue
            if call_name(value) in models.RELATIONSHIP_CALLS and _declared_lazy(value) in models.LAZY_STRATEGIES:
                found.add((cls.name, target.id))
    return found


def _declared_lazy(call: ast.Call) -> str:
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg == "lazy":
            return str(value.value) if isinstance(value, ast.Constant) else "unknown"
        if keyword.arg == "sa_relationship_kwargs":
            if not isinstance(value, ast.Dict):
                return "unknown"
            for key, item in zip(value.keys, value.values):
                if isinstance(key, ast.Constant) and key.value == "lazy":
                    return str(item.value) if isinstance(item, ast.Constant) else "unknown"
    return "select"


# Tests build and read a few rows on purpose; no user waits on an N+1 there.
@check(RELATION_LOADED_PER_ITEM, runs_on_tests=False)
def relation_loaded_per_item(index: ModuleIndex) -> Iterator[Report]:
    """relation-loaded-per-item: a loop over a local query follows an unloaded relation."""
    declared: set[tuple[str, str]] | None = None
    for scope in index.scopes:
        for loop in scope.loops:
            if declared is None:
                declared = lazy_relationships(index)
            indexed = indexed_loop_items(loop, scope, index.project, index)
            if indexed is None:
                yield from _unindexed_findings(loop, scope, declared, index.project)
                continue
            reports = [
                *_indexed_findings(loop, *indexed, index.project),
                *_helper_findings(loop, scope, index, *indexed),
            ]
            payload = loop_scale(loop, scope, index) is LoopScale.PAYLOAD  # `filter(id__in=request.POST...)`
            yield from (_sized_by_payload(r) for r in reports) if payload else reports


_PAYLOAD_NOTE = " (as many as the items the client sent)"


def _sized_by_payload(report: Report) -> Report:
    """The same finding, at one level lower and saying the cost grows with the request's payload."""
    values = {**report.values, "scale": report.values.get("scale", "") + _PAYLOAD_NOTE}
    return replace(report, values=values, lowered_by=report.lowered_by + 1)


def _unindexed_findings(
    loop: LoopFrame, scope: Scope, declared: set[tuple[str, str]], project: ProjectIndex
) -> Iterator[Report]:
    """A loop over a query of a model the index does not know: only what syntax shows to be a relation."""
    item = loop_item(loop)
    if item is None:
        return
    variable, iterable = item
    shape = describe_query(iterable, scope)
    if shape is None or shape.entity is None or shape.loads_everything or project.model(shape.entity) is not None:
        return  # unknown, or a model the index knows (judged above, with what it loads)
    if not shape.only_known_methods:
        return
    parents = _parents(loop.body)
    iterated = _iterated_nodes(loop.body)
    reported: set[str] = set()
    accesses = _item_reads(loop, variable)
    for access in accesses:
        relation = access.attr
        if relation in reported or shape.loads(relation):
            continue
        if shape.framework == "sqlalchemy" and (shape.entity, relation) not in declared:
            continue  # only the model can say whether it is a lazy relation: left to the mypy plugin
        parent = parents.get(id(access))
        grandparent = parents.get(id(parent)) if parent is not None else None
        use = _relation_use(access, parent, grandparent, iterated, shape)
        if use is None:
            continue
        reported.add(relation)
        path = _followed_relations(access, parents) if use == "object" and shape.framework == "django" else [relation]
        yield Report(
            RELATION_LOADED_PER_ITEM,
            access,
            {
                "access": ".".join([variable, *path]),
                "iterable": short_call(iterable),
                "fix": _fix(use, "__".join(path), shape),
            },
            framework=shape.framework,
            model=shape.entity,
            attribute=relation,
        )


def _followed_relations(access: ast.Attribute, parents: dict[int, ast.AST]) -> list[str]:
    """`["book", "author"]` for `review.book.author.name`: the whole chain one `select_related` loads."""
    path = [access.attr]
    node = parents.get(id(access))
    while isinstance(node, ast.Attribute):
        name = node.attr
        if name in _VALUE_NAMES or name.endswith(_VALUE_NAME_ENDINGS) or name.startswith("_"):
            break
        after = parents.get(id(node))
        if not (isinstance(after, ast.Attribute) and after.value is node):
            break  # `review.book.author` used whole: a value or a relation, syntax cannot tell
        if after.attr in _VALUE_ATTRIBUTES or after.attr.startswith("_"):
            break
        call = parents.get(id(after))
        if isinstance(call, ast.Call) and call.func is after:
            break  # a method of the object: `review.book.author.get_absolute_url()`
        path.append(name)
        node = after
    return path


def _indexed_findings(
    loop: LoopFrame, variable: str, iterable: ast.expr, items: Items, project: ProjectIndex
) -> Iterator[Report]:
    """Relations the project index knows, read from each item and not loaded with the items."""
    parents = _parents(loop.body)
    reported: set[str] = set()
    model = project.model(items.model)
    if model is None:
        return
    accesses = _item_reads(loop, variable)
    for access in accesses:
        name = access.attr
        if name in reported:
            continue
        chosen = _read_relation(model.relations, model.relation_properties, name)
        if chosen is None:
            through = _member_findings(access, parents, variable, iterable, items, model, reported)
            if through is not None:
                reported.add(name)
                yield through
            continue
        relation_name, relation = chosen
        if relation_name in reported or relation_name in items.loaded or name in items.loaded:
            continue  # one finding per relation and loop: the first place that loads it
        if relation.lazy not in PER_ITEM_STRATEGIES:
            continue
        parent = parents.get(id(access))
        if _only_counts_or_filters(access, parent, parents, items.framework, relation):
            continue
        reported |= {name, relation_name}
        path = [relation_name]
        if items.framework == "django" and not relation.many:
            path += _known_chain(access, parents, relation, project)
        # SQLAlchemy serves a many-to-one target already in the session from its identity map.
        scale, lowered = _what_lessens_it(items, [relation])
        yield Report(
            RELATION_LOADED_PER_ITEM,
            access,
            {
                "access": ".".join([variable, name, *path[1:]]),
                "iterable": short_call(iterable),
                "scale": scale,
                "fix": _indexed_fix(items, path, relation),
            },
            lowered_by=lowered,
            framework=items.framework,
            model=items.model,
            attribute=relation_name,
        )


_IDENTITY_MAP = " whose target is not in the session yet (repeated targets come from the identity map)"
# Low: the collection of one object is often short (a debate's teams), and its loader may have prefetched it.
_CALLERS_MAY_LOAD = " (unless whoever loaded this object prefetched them along)"


def _what_lessens_it(items: Items, relations: list[Relation]) -> tuple[str, int]:
    """(the message's note, levels below the rule's severity): a SQLAlchemy many-to-one is served from the
    identity map for targets already loaded (one level); one object's own collection may be short and prefetched
    by its loader (two levels, to low)."""
    many_to_one = items.framework == "sqlalchemy" and not any(relation.many for relation in relations)
    note = (_IDENTITY_MAP if many_to_one else "") + (_CALLERS_MAY_LOAD if items.callers_may_load else "")
    return note, int(many_to_one) + (2 if items.callers_may_load else 0)


def _member_findings(
    access: ast.Attribute,
    parents: dict[int, ast.AST],
    variable: str,
    iterable: ast.expr,
    items: Items,
    model: ModelFacts,
    reported: set[str],
) -> Report | None:
    """`item.label()` or `item.display_name` whose body reads relations of `self` the items were loaded without."""
    name = access.attr
    call = parents.get(id(access))
    is_call = isinstance(call, ast.Call) and call.func is access
    if not (is_call or name in model.properties) or name in django.INSTANCE_WRITE_METHODS:
        return None  # a write per item is query-in-loop's finding already
    # a collection read in a method is often a new query there: query-in-loop's case
    unloaded = _unloaded(model, model.method_reads.get(name, []), items, reported, objects_only=True)
    if not unloaded:
        return None
    reported.update(attribute for attribute, _ in unloaded)
    return _read_elsewhere(access, f"{variable}.{name}{'()' if is_call else ''}", "self", unloaded, iterable, items)


def _read_elsewhere(
    node: ast.AST, shown: str, reader: str, unloaded: list[tuple[str, Relation]], iterable: ast.expr, items: Items
) -> Report:
    """The finding for relations a method or helper reads (`reader.attr`) on every call made per item."""
    reads = ", ".join(f"{reader}.{attribute}" for attribute, _ in unloaded)
    # SQLAlchemy serves many-to-one targets already in the session from its identity map.
    scale, lowered = _what_lessens_it(items, [relation for _, relation in unloaded])
    return Report(
        RELATION_LOADED_PER_ITEM,
        node,
        {
            "access": f"{shown}, which reads {reads},",
            "iterable": short_call(iterable),
            "scale": scale,
            "fix": " and ".join(_indexed_fix(items, [a], relation) for a, relation in unloaded),
        },
        lowered_by=lowered,
        framework=items.framework,
        model=items.model,
        attribute=", ".join(a for a, _ in unloaded),
    )


def _helper_findings(
    loop: LoopFrame, scope: Scope, index: ModuleIndex, variable: str, iterable: ast.expr, items: Items
) -> Iterator[Report]:
    """`label(book)` per item, where `label` (a function of this module or a method of the caller's class)
    reads `book.author` on every call: the N+1 happens in the helper; the finding is at the call."""
    model = index.project.model(items.model)
    if model is None:
        return
    reported: set[str] = set()
    for root in loop.body:
        for call in (n for n in ast.walk(root) if isinstance(n, ast.Call)):
            helper = _called_helper(call, scope, index)
            if helper is None:
                continue
            parameters = index.positional_parameters(helper)
            for position, argument in enumerate(call.args[: len(parameters)]):
                if not (isinstance(argument, ast.Name) and argument.id == variable):
                    continue
                parameter = parameters[position]
                read = sorted(
                    {
                        node.attr
                        for node in always_run(helper.node.body)  # type: ignore[attr-defined]
                        if isinstance(node, ast.Attribute)
                        and isinstance(node.value, ast.Name)
                        and node.value.id == parameter
                    }
                )
                unloaded = _unloaded(model, read, items, reported)
                if not unloaded:
                    continue
                reported.update(a for a, _ in unloaded)
                yield _read_elsewhere(call, short_call(call), parameter, unloaded, iterable, items)


def _unloaded(
    model: ModelFacts, names: list[str], items: Items, reported: set[str], objects_only: bool = False
) -> list[tuple[str, Relation]]:
    """The relations among `names` each item loads by itself: not loaded with the items, not reported yet."""
    return [
        (name, relation)
        for name in names
        if (relation := model.relations.get(name)) is not None
        and not (objects_only and relation.many)
        and name not in items.loaded
        and name not in reported
        and relation.lazy in PER_ITEM_STRATEGIES
    ]


def _called_helper(call: ast.Call, caller: Scope, index: ModuleIndex) -> Scope | None:
    helper = index.callee(call, caller)
    func = call.func
    if helper is not None or (isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "self"):
        return helper
    imported = imported_helper(func, index, querying=False)  # a function of another module of the project
    return imported[0] if imported is not None else None


def _item_reads(loop: LoopFrame, variable: str) -> list[ast.Attribute]:
    """`item.x` read in the loop body, in source order, but for what the loop set on the item before."""
    assigned = _assigned_in_loop(loop, variable)
    reads = [
        node
        for root in loop.body
        for node in ast.walk(root)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == variable
        and isinstance(node.ctx, ast.Load)
        and not (node.attr in assigned and assigned[node.attr] < node.lineno)
    ]
    return sorted(reads, key=lambda n: (n.lineno, n.col_offset))


def _assigned_in_loop(loop: LoopFrame, variable: str) -> dict[str, int]:
    """Attributes the loop sets on its item (`p.thread = threads[p.thread_id]`), with the line the setting ends.

    A read after that line is read back from memory; a read on the right-hand side of the setting is not.
    """
    assigned: dict[str, int] = {}
    for root in loop.body:
        for statement in ast.walk(root):
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == variable
                ):
                    end = getattr(statement, "end_lineno", None) or statement.lineno
                    assigned[target.attr] = min(end, assigned.get(target.attr, end))
    return assigned


def _read_relation(
    relations: dict[str, Relation], properties: dict[str, list[str]], name: str
) -> tuple[str, Relation] | None:
    """The relation reading `item.<name>` loads: a relation itself, or a property that returns one."""
    if name in relations:
        return name, relations[name]
    for returned in properties.get(name, []):
        if returned in relations:
            return returned, relations[returned]
    return None


def _only_counts_or_filters(
    access: ast.Attribute, parent: ast.AST | None, parents: dict[int, ast.AST], framework: str, relation: Relation
) -> bool:
    """A Django manager used for a new query (`item.books.filter(...)`, `.count()`): query-in-loop's case."""
    if framework != "django" or not relation.many:
        return False
    if isinstance(parent, ast.Attribute) and parent.value is access:
        call = parents.get(id(parent))
        return not (isinstance(call, ast.Call) and call.func is parent and parent.attr == "all" and not call.args)
    return True  # the manager itself, not its rows


def _known_chain(
    access: ast.Attribute, parents: dict[int, ast.AST], relation: Relation, project: ProjectIndex
) -> list[str]:
    """`["author"]` for `review.book.author.name` when Book.author is a relation: one select_related path."""
    chain: list[str] = []
    node = parents.get(id(access))
    current = relation
    while isinstance(node, ast.Attribute) and not current.many:
        nxt = project.relation(current.target, node.attr)
        if nxt is None or nxt.many:
            break
        chain.append(node.attr)
        current = nxt
        node = parents.get(id(node))
    return chain


def _indexed_fix(items: Items, path: list[str], relation: Relation) -> str:
    if items.framework == "django":
        lookup = "__".join(path)
        loader = "prefetch_related" if relation.many or relation.generic else "select_related"
        if items.loaded_with:
            return (
                f'add {loader}("{lookup}") to the query, or prefetch_related("{items.loaded_with}__{lookup}") '
                f"where {items.owner} objects are loaded and read the prefetched rows here"
            )
        return f'add {loader}("{lookup}") to the query'
    loader = "selectinload" if relation.many else "joinedload"
    if items.fix_prefix:
        return f"load it with the collection: .options({items.fix_prefix}{loader}({items.model}.{path[0]}))"
    return f"add .options({loader}({items.model}.{path[0]})) to the query"
