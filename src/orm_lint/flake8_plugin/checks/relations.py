"""relation-loaded-per-item: an N+1 visible in one function.

A loop's items are known when the loop runs over a query built in the function, over a
related collection of an object the function loaded (`post.comments`, `publisher.books.all()`),
or over a page of such a query. Which attributes are relations comes from the project index
(every model of the project, from source); for a model the index does not know, only what
syntax alone shows to be a relation is reported. Everything else is left to the mypy plugin.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.performance import RELATION_LOADED_PER_ITEM
from dataclasses import dataclass

from ...frameworks import django, models, sqlalchemy
from ...project import ProjectIndex, Relation
from ..queries import QueryShape, call_name, describe_query, unchain
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


def _loop_item(loop: LoopFrame) -> tuple[str, ast.expr] | None:
    """The loop variable bound to each item, and the iterated expression."""
    iterable, target = loop.iter, loop.target
    if iterable is None or target is None:
        return None
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "enumerate"
        and iterable.args
        and isinstance(target, ast.Tuple)
        and len(target.elts) == 2
    ):
        iterable, target = iterable.args[0], target.elts[1]
    if isinstance(target, ast.Name):
        return target.id, iterable
    return None


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


@dataclass(frozen=True)
class _Items:
    """What a loop iterates: instances of `model`, with what their query loads along."""

    framework: str
    model: str
    loaded: frozenset[str]  # relations loaded with the items
    fix_prefix: str = ""  # SQLAlchemy: the loader path that reaches the items (`selectinload(Customer.orders).`)


# Lazy strategies under which reading the relation per item runs one query per item.
_PER_ITEM_STRATEGIES = frozenset({"select", "True", "unknown"})
# Calls that load one object: `session.get(M, pk)`, `get_object_or_404(M, ...)`, `db.get_or_404(M, pk)`.
_OBJECT_GETTERS = sqlalchemy.SESSION_GETTERS | {"get_object_or_404"}
# Terminal calls that return one object of a query.
_ONE_OBJECT = frozenset({"get", "first", "last", "one", "one_or_none", "scalar_one", "scalar_one_or_none"})
_ONE_OBJECT_RUNNERS = frozenset({"one_or_404", "first_or_404"})


@check(RELATION_LOADED_PER_ITEM)
def relation_loaded_per_item(index: ModuleIndex) -> Iterator[Report]:
    """relation-loaded-per-item: a loop over a local query follows an unloaded relation."""
    declared: set[tuple[str, str]] | None = None
    for scope in index.scopes:
        for loop in scope.loops:
            if declared is None:
                declared = lazy_relationships(index)
            yield from _loop_findings(loop, scope, declared, index.project)


def _items_of_collection(iterable: ast.expr, scope: Scope, project: ProjectIndex) -> _Items | None:
    """`post.comments`, `publisher.books.order_by(...)`: a related collection of an object loaded here."""
    root, steps = unchain(iterable)
    if not isinstance(root, ast.Name) or not steps or steps[0].call is not None:
        return None
    owner = _object_items(root.id, scope, project)
    if owner is None or steps[0].name in owner.loaded:
        return None  # loaded with its owner: what it loads in turn is not visible here
    relation = project.relation(owner.model, steps[0].name)
    if relation is None or not relation.many or relation.target is None:
        return None
    if relation.lazy not in _PER_ITEM_STRATEGIES:
        return None
    rest = steps[1:]
    if owner.framework == "django":
        if not rest or not all(s.call is not None and s.name in django.LAZY_METHODS for s in rest):
            return None  # a manager is iterated through a queryset method
        shape = QueryShape("django", relation.target, []).extended(rest)
        if shape is None or shape.loads_everything or shape.entity is None:
            return None
        return _Items("django", relation.target, frozenset(shape.loaded))
    if rest:
        return None
    prefix = f"{owner.fix_prefix}selectinload({owner.model}.{steps[0].name})."
    return _Items("sqlalchemy", relation.target, frozenset(), prefix)


def _object_items(name: str, scope: Scope, project: ProjectIndex) -> _Items | None:
    """The model of a local bound once to one loaded object, with what was loaded along."""
    values = scope.values_of(name)
    if not values or len(values) != 1 or not isinstance(values[0], ast.Call):
        return None
    call = values[0]
    called = call_name(call)
    if called in _OBJECT_GETTERS and call.args:
        model_arg = call.args[0]
        model = model_arg.id if isinstance(model_arg, ast.Name) else getattr(model_arg, "attr", None)
        facts = project.model(model)
        if facts is None or any(k.arg == "options" for k in call.keywords):
            return None
        return _Items(facts.framework, facts.name, frozenset())
    target = call.args[0] if called in _ONE_OBJECT_RUNNERS and call.args else call
    if called not in _ONE_OBJECT and called not in _ONE_OBJECT_RUNNERS:
        return None
    shape = describe_query(target, scope)
    loaded = _loaded_by(shape, project) if shape is not None else None
    if shape is None or shape.entity is None or loaded is None or project.model(shape.entity) is None:
        return None
    return _Items(shape.framework, shape.entity, loaded)


def _loaded_by(shape: QueryShape, project: ProjectIndex) -> frozenset[str] | None:
    """The relations the query loads, through the project's own queryset methods too; None: unknown or all."""
    if shape.loads_everything:
        return None
    loaded = set(shape.loaded)
    for method in shape.custom_methods:
        known = project.queryset_methods.get(method)
        if known is None or "*" in known:
            return None  # a method the index does not know may load anything
        loaded |= known
    return frozenset(loaded)


def _page_items(iterable: ast.expr, scope: Scope) -> QueryShape | None:
    """`pagination.items` of `db.paginate(stmt)` or `Model.query.paginate()`: the page's rows of the query."""
    if not (isinstance(iterable, ast.Attribute) and iterable.attr == "items" and isinstance(iterable.value, ast.Name)):
        return None
    values = scope.values_of(iterable.value.id)
    if not values or len(values) != 1 or not isinstance(values[0], ast.Call) or call_name(values[0]) != "paginate":
        return None
    call = values[0]
    func = call.func
    if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id == "db"):
        shape = describe_query(func.value, scope)  # Model.query.filter(...).paginate(...)
    else:
        shape = describe_query(call.args[0], scope) if call.args else None
    return shape


def _loop_findings(
    loop: LoopFrame, scope: Scope, declared: set[tuple[str, str]], project: ProjectIndex
) -> Iterator[Report]:
    item = _loop_item(loop)
    if item is None:
        return
    variable, iterable = item
    shape = describe_query(iterable, scope) or _page_items(iterable, scope)
    if shape is None:
        items = _items_of_collection(iterable, scope, project)
        if items is not None:
            yield from _indexed_findings(loop, variable, iterable, items, project)
        return
    if shape.entity is None or shape.loads_everything:
        return
    if project.model(shape.entity) is not None:
        loaded = _loaded_by(shape, project)
        if loaded is not None:
            items = _Items(shape.framework, shape.entity, loaded)
            yield from _indexed_findings(loop, variable, iterable, items, project)
        return
    if not shape.only_known_methods:
        return
    parents = _parents(loop.body)
    iterated = _iterated_nodes(loop.body)
    reported: set[str] = set()
    assigned = _assigned_in_loop(loop, variable)
    accesses = [
        node
        for root in loop.body
        for node in ast.walk(root)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == variable
        and isinstance(node.ctx, ast.Load)
        and not (node.attr in assigned and assigned[node.attr] < node.lineno)
    ]
    accesses.sort(key=lambda n: (n.lineno, n.col_offset))
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
    loop: LoopFrame, variable: str, iterable: ast.expr, items: _Items, project: ProjectIndex
) -> Iterator[Report]:
    """Relations the project index knows, read from each item and not loaded with the items."""
    parents = _parents(loop.body)
    reported: set[str] = set()
    model = project.model(items.model)
    if model is None:
        return
    assigned = _assigned_in_loop(loop, variable)
    accesses = [
        node
        for root in loop.body
        for node in ast.walk(root)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == variable
        and isinstance(node.ctx, ast.Load)
        and not (node.attr in assigned and assigned[node.attr] < node.lineno)
    ]
    accesses.sort(key=lambda n: (n.lineno, n.col_offset))
    for access in accesses:
        name = access.attr
        chosen = _read_relation(model.relations, model.relation_properties, name)
        if chosen is None or name in reported:
            continue
        relation_name, relation = chosen
        if relation_name in items.loaded or name in items.loaded or relation.lazy not in _PER_ITEM_STRATEGIES:
            continue
        parent = parents.get(id(access))
        if _only_counts_or_filters(access, parent, parents, items.framework, relation):
            continue
        reported.add(name)
        path = [relation_name]
        if items.framework == "django" and not relation.many:
            path += _known_chain(access, parents, relation, project)
        yield Report(
            RELATION_LOADED_PER_ITEM,
            access,
            {
                "access": ".".join([variable, name, *path[1:]]),
                "iterable": short_call(iterable),
                "fix": _indexed_fix(items, path, relation),
            },
        )


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


def _indexed_fix(items: _Items, path: list[str], relation: Relation) -> str:
    if items.framework == "django":
        lookup = "__".join(path)
        loader = "prefetch_related" if relation.many or relation.generic else "select_related"
        return f'add {loader}("{lookup}") to the query'
    loader = "selectinload" if relation.many else "joinedload"
    if items.fix_prefix:
        return f"load it with the collection: .options({items.fix_prefix}{loader}({items.model}.{path[0]}))"
    return f"add .options({loader}({items.model}.{path[0]})) to the query"
