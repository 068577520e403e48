"""What a loop iterates, as far as the project index shows: instances of which model, with what loaded.

Shared by the checks that judge what happens per item (a relation read, a method that queries).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..frameworks import django, sqlalchemy
from ..project import ProjectIndex
from .queries import QueryShape, call_name, describe_query, imported_helper, unchain
from .scope import LoopFrame, ModuleIndex, Scope


@dataclass(frozen=True)
class Items:
    """What a loop iterates: instances of `model`, with what their query loads along."""

    framework: str
    model: str
    loaded: frozenset[str]  # relations loaded with the items
    fix_prefix: str = ""  # SQLAlchemy: the loader path that reaches the items (`selectinload(Customer.orders).`)
    # A related collection of `self` in a model's method: its callers, which this code cannot see, may have
    # loaded it along with what its items read.
    callers_may_load: bool = False
    loaded_with: str = ""  # Django, then: the lookup that prefetches them with their owner (`debateteam_set`)
    owner: str = ""  # and the owner's model


# Lazy strategies under which reading the relation per item runs one query per item.
PER_ITEM_STRATEGIES = frozenset({"select", "True", "unknown"})
# Calls that load one object: `session.get(M, pk)`, `get_object_or_404(M, ...)`, `db.get_or_404(M, pk)`.
_OBJECT_GETTERS = sqlalchemy.SESSION_GETTERS | {"get_object_or_404"}
# Terminal calls that return one object of a query.
_ONE_OBJECT = frozenset({"get", "first", "last", "one", "one_or_none", "scalar_one", "scalar_one_or_none"})
_ONE_OBJECT_RUNNERS = frozenset({"one_or_404", "first_or_404"})


def _items_of_collection(iterable: ast.expr, scope: Scope, project: ProjectIndex, index: ModuleIndex) -> Items | None:
    """`post.comments`, `publisher.books.order_by(...)`: a related collection of an object loaded here."""
    root, steps = unchain(iterable)
    if not isinstance(root, ast.Name) or not steps or steps[0].call is not None:
        return None
    owner = _object_items(root.id, scope, project, index) or _self_items(root.id, scope, project)
    if owner is None or steps[0].name in owner.loaded:
        return None  # loaded with its owner: what it loads in turn is not visible here
    relation = project.relation(owner.model, steps[0].name)
    if relation is None or not relation.many or relation.target is None:
        return None
    if relation.lazy not in PER_ITEM_STRATEGIES:
        return None
    rest = steps[1:]
    if owner.framework == "django":
        if not rest or not all(s.call is not None and s.name in django.LAZY_METHODS for s in rest):
            return None  # a manager is iterated through a queryset method
        shape = QueryShape("django", relation.target, []).extended(rest)
        if shape is None or shape.loads_everything or shape.entity is None:
            return None
        if owner.callers_may_load:
            loaded = frozenset(shape.loaded)
            return Items(
                "django", relation.target, loaded, callers_may_load=True, loaded_with=steps[0].name, owner=owner.model
            )
        return Items("django", relation.target, frozenset(shape.loaded))
    if rest:
        return None
    prefix = f"{owner.fix_prefix}selectinload({owner.model}.{steps[0].name})."
    return Items("sqlalchemy", relation.target, frozenset(), prefix, callers_may_load=owner.callers_may_load)


def _self_items(name: str, scope: Scope, project: ProjectIndex) -> Items | None:
    """`self` in a method of a model the index knows: one instance, loaded by a caller this code cannot see."""
    method = scope.node
    if scope.owner_class is None or not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if not method.args.args or method.args.args[0].arg != name:
        return None
    if any(getattr(d, "id", None) in {"staticmethod", "classmethod"} for d in method.decorator_list):
        return None
    facts = project.model(scope.owner_class.name)
    if facts is None or facts.module != project.near:
        return None  # a class that only shares a model's name (a report object with its own collections)
    return Items(facts.framework, facts.name, frozenset(), callers_may_load=True)


def _object_items(name: str, scope: Scope, project: ProjectIndex, index: ModuleIndex) -> Items | None:
    """The model of a local bound once to one loaded object, with what was loaded along: from a getter
    (`session.get(Task, pk)`), a query's one row, or a helper that returns the object of the model it is
    given (`get_owned(session, Task, pk)`, in this module or imported from another of the project)."""
    values = scope.values_of(name)
    if not values or len(values) != 1 or not isinstance(values[0], ast.Call):
        return None
    call = values[0]
    called = call_name(call)
    if called in _OBJECT_GETTERS and call.args:
        facts = project.model(_model_named(call.args[0]))
        if facts is None or _loads_options(call):
            return None
        return Items(facts.framework, facts.name, frozenset())
    if called not in _ONE_OBJECT and called not in _ONE_OBJECT_RUNNERS:
        return _helper_object(call, scope, project, index)
    target = call.args[0] if called in _ONE_OBJECT_RUNNERS and call.args else call
    shape = describe_query(target, scope)
    loaded = loaded_by(shape, project) if shape is not None else None
    if shape is None or shape.entity is None or loaded is None or project.model(shape.entity) is None:
        return None
    return Items(shape.framework, shape.entity, loaded)


def _helper_object(call: ast.Call, scope: Scope, project: ProjectIndex, index: ModuleIndex) -> Items | None:
    """`get_owned(session, Task, pk)` whose every return is the object its getter loads of the model parameter."""
    helper = index.callee(call, scope)
    if helper is None:
        found = imported_helper(call.func, index, querying=False)
        if found is None:
            return None
        helper = found[0]
    parameters = ModuleIndex.positional_parameters(helper)
    parameter = _returned_model_parameter(helper, parameters)
    if parameter is None:
        return None
    given = next((k.value for k in call.keywords if k.arg == parameter), None)
    position = parameters.index(parameter)
    if given is None and position < len(call.args):
        given = call.args[position]
    facts = project.model(_model_named(given)) if given is not None else None
    return Items(facts.framework, facts.name, frozenset()) if facts is not None else None


def _returned_model_parameter(helper: Scope, parameters: list[str]) -> str | None:
    """The parameter (of `parameters`) whose model every return of the helper is one loaded object of
    (`return task` after `task = session.get(model, pk)`), or None."""
    found: set[str] = set()
    for returned in helper.returns:
        value = returned.value
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        if isinstance(value, ast.Name):
            bound = helper.values_of(value.id)
            value = bound[0] if bound and len(bound) == 1 else None
        if not isinstance(value, ast.Call) or call_name(value) not in _OBJECT_GETTERS or not value.args:
            return None
        model = value.args[0]
        if not isinstance(model, ast.Name) or model.id not in parameters or _loads_options(value):
            return None
        found.add(model.id)
    return found.pop() if len(found) == 1 else None


def _model_named(expr: ast.expr) -> str | None:
    """`Task` of `Task` or `models.Task`."""
    return expr.id if isinstance(expr, ast.Name) else getattr(expr, "attr", None)


def _loads_options(call: ast.Call) -> bool:
    """`session.get(Task, pk, options=[selectinload(...)])`: what it loads along is not read here."""
    return any(k.arg == "options" for k in call.keywords)


def loaded_by(shape: QueryShape, project: ProjectIndex) -> frozenset[str] | None:
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


def page_items(iterable: ast.expr, scope: Scope) -> QueryShape | None:
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


def loop_item(loop: LoopFrame) -> tuple[str, ast.expr] | None:
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


def indexed_loop_items(
    loop: LoopFrame, scope: Scope, project: ProjectIndex, index: ModuleIndex
) -> tuple[str, ast.expr, Items] | None:
    """(loop variable, iterated expression, items) when the index knows the items' model and what is loaded."""
    item = loop_item(loop)
    if item is None:
        return None
    variable, iterable = item
    shape = describe_query(iterable, scope) or page_items(iterable, scope)
    if shape is None:
        items = _items_of_collection(iterable, scope, project, index)
        return (variable, iterable, items) if items is not None else None
    if shape.entity is None or shape.loads_everything or project.model(shape.entity) is None:
        return None
    loaded = loaded_by(shape, project)
    return (variable, iterable, Items(shape.framework, shape.entity, loaded)) if loaded is not None else None
