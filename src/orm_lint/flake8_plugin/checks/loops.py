"""query-in-loop: a query or write issued on every iteration of a loop."""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator

from ...catalogue.performance import QUERY_IN_LOOP
from ...frameworks import django, sqlalchemy, web
from ...project.statements import always_run
from ..items import loop_item
from ..provenance import from_request
from ..queries import (
    QueryShape,
    call_name,
    calls_another_module,
    dotted_name,
    describe_query,
    imported_helper,
    imported_method,
    is_session_like,
    iterates_rows,
    looks_like_model,
    unchain,
)
from ..registry import Report, check
from ..render import short_call
from ..scope import CONSTANT_NAME, LoopFrame, ModuleIndex, Scope

_BATCH_READ = {
    "django": "load them all before the loop with one filter(<field>__in=...) or in_bulk() and look them up in a dict",
    "sqlalchemy": (
        "load them all before the loop with one select(...).where(<column>.in_(...)) and look them up in a dict"
    ),
    "dbapi": "read them all before the loop with one statement (WHERE id IN (%s, ...)) and look them up in a dict",
}
# The batch form of each per-item call, in the framework the call belongs to.
_BATCH: dict[str, dict[str, str]] = {
    "django": {
        "count": "compute every count in one query: annotate(n=Count(...)) on the outer query",
        "aggregate": "compute every aggregate in one query: values(...).annotate(...) on the outer query",
        "create": "collect the objects and bulk_create() them after the loop",
        "save": "collect the changes and bulk_update() (or QuerySet.update()) after the loop",
        "get_or_create": "read the existing rows once with filter(<field>__in=...) and bulk_create() the missing ones",
        "update_or_create": (
            "read the existing rows once with filter(<field>__in=...), then bulk_update() and bulk_create()"
        ),
        "delete": "delete them in one statement: filter(pk__in=...).delete()",
        "update": "update them in one statement: filter(pk__in=...).update(...) or bulk_update()",
        "refresh_from_db": "reload all the objects with one filter(pk__in=...) before the loop",
    },
    "sqlalchemy": {
        "count": "compute every count in one query: group_by() with func.count()",
        "delete": "delete them in one statement: delete(Model).where(Model.id.in_(...))",
        "update": "update them in one statement: update(Model).where(...), or session.execute(update(Model), rows)",
        "commit": "add everything (add_all()) and commit once after the loop",
        "flush": "add everything (add_all()) and flush once after the loop",
        "execute": "send one statement for all items: where(<column>.in_(...)), or a bulk insert()/update() with rows",
        "merge": "load all the objects with one query before the loop",
        "refresh": "load all the objects with one query before the loop",
    },
    "dbapi": {"execute": "send one statement for all items: executemany(), or one IN (...) list of placeholders"},
}
for _name in ("scalars", "scalar", "exec"):
    _BATCH["sqlalchemy"][_name] = _BATCH["sqlalchemy"]["execute"]
# Why a loop's cost is less than a whole table's: said in the message, with a lower severity.
_PAYLOAD_SCALE = " (as many as the items the client sent: the cost grows with the request's payload)"
_ISOLATED_COMMIT = (
    " (a commit per item inside try/except keeps one item's failure from undoing the others: deliberate,"
    " but a round trip per item)"
)
_ISOLATING_METHODS = frozenset({"commit", "flush"})

_SESSION_METHODS = sqlalchemy.SESSION_QUERY_METHODS | sqlalchemy.SESSION_FLUSH_METHODS
_QUERY_METHODS = django.EVALUATING_METHODS | django.WRITE_METHODS | sqlalchemy.QUERY_TERMINAL_METHODS
_RELATED_MANAGER_READS = frozenset({"count", "exists", "first", "last", "aggregate", "latest", "earliest"})
_CURSOR_NAMES = frozenset({"cursor", "cur", "conn", "connection"})
# Builtins and methods whose result has as many items as their argument or receiver (or fewer).
_PASS_THROUGH_CALLS = frozenset({"enumerate", "sorted", "reversed", "list", "tuple", "set", "zip", "iter", "filter"})
_PASS_THROUGH_METHODS = frozenset({"items", "keys", "values", "copy"})
# Model metadata: a model's fields, columns and relations, fixed when the code is written.
_METADATA_ATTRIBUTES = frozenset({"_meta", "__table__", "__mapper__", "__fields__", "model_fields", "__annotations__"})


def _batch_advice(method: str, framework: str) -> str:
    return _BATCH[framework].get(method) or _BATCH_READ[framework]


def _receiver_text(receiver: ast.expr) -> str:
    return (dotted_name(receiver) or "").lower()


def _last_name(receiver: ast.expr) -> str:
    if isinstance(receiver, ast.Attribute):
        return receiver.attr
    if isinstance(receiver, ast.Name):
        return receiver.id
    return ""


def per_iteration_query(call: ast.Call, scope: Scope) -> tuple[str, str] | None:
    """(method, framework) when this call sends SQL each time it runs, else None."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    method, receiver = func.attr, func.value
    receiver_name = _last_name(receiver)
    receiver_text = _receiver_text(receiver)
    if "request" in receiver_text:
        return None  # request.session is a dict-like store, not a database session

    if method in _SESSION_METHODS and is_session_like(receiver_name) and receiver_name.lower() != "db":
        if method in sqlalchemy.SESSION_FLUSH_METHODS:
            return method, "sqlalchemy"
        if not call.args:
            return None
        if method in {"get", "get_one"} and not looks_like_model(call.args[0]):
            return None
        return method, "sqlalchemy"
    if receiver_name == "db" and method in sqlalchemy.DB_QUERY_HELPERS:
        return "get", "sqlalchemy"
    if (
        method in {"execute", "executescript", "exec_driver_sql"}
        and receiver_name.lower() in _CURSOR_NAMES
        and call.args
    ):
        return "execute", "dbapi"
    if method in {"get_or_create", "update_or_create"}:
        return method, "django"

    if method in _QUERY_METHODS:
        shape = describe_query(receiver, scope)
        if shape is not None:
            return _query_method(method, call, shape)
        if _is_related_manager(receiver, scope) and _related_manager_query(method, call):
            return method, "django"

    if id(call) in scope.receiver_calls:
        return None  # `table.delete().where(...)` builds a statement: it runs where it is executed
    if method in django.INSTANCE_WRITE_METHODS and not call.args and not _commit_false(call):
        if isinstance(receiver, (ast.Name, ast.Attribute)) and not any(
            word in receiver_text for word in ("session", "cache", "storage", "file")
        ):
            return method, "django"
    return None


def _commit_false(call: ast.Call) -> bool:
    """`form.save(commit=False)` builds the object without writing it."""
    return any(
        k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords
    )


def _query_method(method: str, call: ast.Call, shape: QueryShape) -> tuple[str, str] | None:
    if shape.terminal is not None:
        return None  # the receiver is a result already (a dict from in_bulk, a list from all())
    if method == "get" and len(call.args) > 1:
        return None  # (key, default): a dict's get
    if method == "all" and shape.framework == "django":
        return None  # lazy in Django
    if method == "update" and shape.framework == "django" and call.args:
        return None
    if method not in django.EVALUATING_METHODS | django.WRITE_METHODS and shape.framework == "django":
        return None
    return method, shape.framework


def _served_by_prefetch(call: ast.Call, frame: LoopFrame, scope: Scope) -> bool:
    """`p.faces.count()` / `.exists()` per item of a query that prefetched `faces`: Django answers from the cache."""
    if call_name(call) not in {"count", "exists"} or call.args or not isinstance(call.func, ast.Attribute):
        return False
    root, steps = unchain(call.func.value)
    if not isinstance(root, ast.Name) or not steps or steps[0].call is not None:
        return False
    if any(step.call is None or step.name != "all" for step in steps[1:]):
        return False  # `p.faces.filter(...).count()` is a new query whatever was prefetched
    item = loop_item(frame)
    if item is None or item[0] != root.id:
        return False
    shape = describe_query(item[1], scope)
    return shape is not None and shape.framework == "django" and shape.loads(steps[0].name)


def _is_related_manager(receiver: ast.expr, scope: Scope) -> bool:
    """`author.books` or `author.books.filter(...)`: a relation of a loop item or local object."""
    root, steps = unchain(receiver)
    if not isinstance(root, ast.Name) or root.id in {"self", "cls"} or not steps:
        return False
    first, rest = steps[0], steps[1:]
    if first.call is not None or first.name.startswith("_"):
        return False
    return all(step.call is not None and step.name in django.LAZY_METHODS for step in rest)


def _related_manager_query(method: str, call: ast.Call) -> bool:
    if method in _RELATED_MANAGER_READS:
        return not call.args or method == "aggregate"
    if method in {"get", "create"}:
        return not call.args and bool(call.keywords)
    return False


_BATCH_CALLS = frozenset(
    {
        "add_all",
        "bulk_create",
        "bulk_update",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
        "executemany",
    }
)


def _fixed_iterations(iterable: ast.expr | None, scope: Scope | None, index: ModuleIndex | None) -> bool:
    """A collection the program writes itself, whose length does not grow with data or requests.

    A literal, `range(<constant>)`, a module constant, an `Enum` or `choices`, `settings.*`,
    model metadata (`_meta.get_fields()`, `__table__.columns`, `inspect(Model).attrs`), a
    function's `**kwargs` — and the same through `enumerate()`, `sorted()`, `.items()` and the like.
    """
    if iterable is None:
        return False
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        return all(not isinstance(e, ast.Starred) or _fixed_iterations(e.value, scope, index) for e in iterable.elts)
    if isinstance(iterable, (ast.Dict, ast.Constant)):
        return all(key is not None for key in getattr(iterable, "keys", ()))  # no `**other` spread in
    if isinstance(iterable, ast.Call):
        name = call_name(iterable) or ""
        if isinstance(iterable.func, ast.Name) and name == "range":
            return all(isinstance(a, ast.Constant) for a in iterable.args)
        if isinstance(iterable.func, ast.Name) and name in _PASS_THROUGH_CALLS and iterable.args:
            if name == "zip":
                return any(_fixed_iterations(a, scope, index) for a in iterable.args)
            return _fixed_iterations(iterable.args[0], scope, index)
        if isinstance(iterable.func, ast.Attribute) and name in _PASS_THROUGH_METHODS:
            return _fixed_iterations(iterable.func.value, scope, index)
    dotted = dotted_name(iterable.func if isinstance(iterable, ast.Call) else iterable) or ""
    parts = dotted.split(".")
    if parts[0] == "settings" or any(part in _METADATA_ATTRIBUTES for part in parts):
        return True
    if isinstance(iterable, (ast.Call, ast.Attribute)) and _is_inspection(iterable):
        return True
    if isinstance(iterable, ast.Attribute) and iterable.attr == "choices":
        return True  # `Status.choices`: an enumeration's members
    if isinstance(iterable, (ast.Name, ast.Attribute)) and not isinstance(iterable, ast.Call):
        last = iterable.id if isinstance(iterable, ast.Name) else iterable.attr
        if CONSTANT_NAME.match(last) or (index is not None and index.module_constant(last)):
            return True
        if isinstance(iterable, ast.Name) and scope is not None and scope.constant(last):
            return True  # `sides = ("aff", "neg")` just above the loop
        if last[:1].isupper() and not last.isupper():
            return True  # iterating a class: only an Enum's members can be iterated that way
        if isinstance(iterable, ast.Name) and scope is not None and last == _kwargs_parameter(scope):
            return True
    return False


def _is_inspection(expr: ast.expr) -> bool:
    """`inspect(Model).attrs`, `sa.inspect(obj).mapper.columns`: the mapper's metadata."""
    root, _ = unchain(expr)
    return isinstance(root, ast.Call) and call_name(root) == "inspect"


def _kwargs_parameter(scope: Scope) -> str | None:
    node = scope.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.args.kwarg is not None:
        return node.args.kwarg.arg
    return None


def _works_in_batches(frame: LoopFrame) -> bool:
    """`for start in range(0, n, 1000)`, or a loop over batches that writes each with a bulk call
    (`for chunk in chunks: Model.objects.bulk_create(chunk)`): one query per batch, not per row."""
    iterable = frame.iter
    if isinstance(iterable, ast.Call) and call_name(iterable) == "range" and len(iterable.args) == 3:
        return True
    batch = {n.id for n in ast.walk(frame.target) if isinstance(n, ast.Name)} if frame.target is not None else set()
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _BATCH_CALLS
        and any(_the_batch(a, batch) for a in node.args)
        for stmt in frame.body
        for node in ast.walk(stmt)
    )


def _the_batch(argument: ast.expr, batch: set[str]) -> bool:
    """`chunk`, `list(chunk)`, `chunk[:n]`: the loop's item itself, not something read from it."""
    if isinstance(argument, ast.Call) and call_name(argument) in {"list", "tuple"} and argument.args:
        argument = argument.args[0]
    if isinstance(argument, ast.Subscript) and isinstance(argument.slice, ast.Slice):
        argument = argument.value
    return isinstance(argument, ast.Name) and argument.id in batch


def _runs_per_item(frame: LoopFrame | None, scope: Scope | None = None, index: ModuleIndex | None = None) -> bool:
    """Some enclosing loop repeats with the data (not a fixed list, not a batch loop)."""
    return loop_scale(frame, scope, index) is not LoopScale.FIXED


class LoopScale(enum.IntEnum):
    """What the number of iterations grows with."""

    FIXED = 0  # a collection the program writes itself, or one query per batch
    PAYLOAD = 1  # the size of what a client sent: the cost grows with the payload
    DATA = 2  # rows, related collections, anything a caller passes in


def loop_scale(frame: LoopFrame | None, scope: Scope | None = None, index: ModuleIndex | None = None) -> LoopScale:
    """The largest scale of the enclosing loops: a loop inside a loop over rows repeats with the rows."""
    largest = LoopScale.FIXED
    while frame is not None:
        if frame.scales is None:  # computed once per loop, however many calls it holds
            frame.scales = _frame_scale(frame, scope, index)
        largest = max(largest, LoopScale(frame.scales))
        frame = frame.parent
    return largest


def _frame_scale(frame: LoopFrame, scope: Scope | None, index: ModuleIndex | None) -> LoopScale:
    if isinstance(frame.node, ast.While):
        return LoopScale.DATA
    if _fixed_iterations(frame.iter, scope, index) or _works_in_batches(frame) or _form_fields(frame.iter):
        return LoopScale.FIXED
    if (
        frame.iter is not None
        and scope is not None
        and index is not None
        and _sized_by_request(frame.iter, scope, index)
    ):
        return LoopScale.PAYLOAD
    return LoopScale.DATA


def _sized_by_request(iterable: ast.expr, scope: Scope, index: ModuleIndex, depth: int = 0) -> bool:
    """As many items as the client sent: request data, a form's or serializer's submitted items, the rows of a
    query filtered by request data (`filter(id__in=request.POST.getlist("ids"))`) — also through `enumerate()`
    and the like, a local holding one, or a helper of this module returning one."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(iterable, ast.Await):
        iterable = iterable.value
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.args:
        if iterable.func.id == "zip":  # as many as the shortest
            return any(_sized_by_request(a, scope, index, depth + 1) for a in iterable.args)
        if iterable.func.id in _PASS_THROUGH_CALLS:
            return _sized_by_request(iterable.args[0], scope, index, depth + 1)
    if (
        from_request(iterable, index, scope)
        or _submitted_items(iterable)
        or _filtered_by_request(iterable, scope, index)
    ):
        return True
    if isinstance(iterable, ast.Name):
        values = scope.values_of(iterable.id)
        return (
            bool(values)
            and iterable.id not in scope.contributions
            and all(_sized_by_request(v, scope, index, depth + 1) for v in values)
        )
    helper = index.callee(iterable, scope) if isinstance(iterable, ast.Call) else None
    if helper is None or helper is scope or not helper.returns:
        return False
    return all(r.value is not None and _sized_by_request(r.value, helper, index, depth + 1) for r in helper.returns)


def _filtered_by_request(iterable: ast.expr, scope: Scope, index: ModuleIndex) -> bool:
    """Rows of a query narrowed by request data: `Model.objects.filter(id__in=posted_ids)`, also on a model this
    module cannot name (`self.model.objects.filter(...)`)."""
    _, steps = unchain(iterable)
    if not any(s.name in _NARROWING_FILTERS and s.call is not None for s in steps):
        return False
    if describe_query(iterable, scope) is None and not any(
        s.call is None and (s.name in django.MANAGER_ATTRIBUTES or s.name == "query") for s in steps
    ):
        return False
    return any(
        from_request(value, index, scope)
        for step in steps
        if step.call is not None and step.name in _NARROWING_FILTERS
        for value in [*step.call.args, *(k.value for k in step.call.keywords)]
    )


_NARROWING_FILTERS = frozenset({"filter", "where", "filter_by", "in_bulk"})
_MAX_DEPTH = 6


def _form_fields(iterable: ast.expr) -> bool:
    """`form.cleaned_data.items()`: one entry per field of the form, which the program declares."""
    if isinstance(iterable, ast.Call) and call_name(iterable) in {"items", "keys", "values"}:
        iterable = iterable.func.value  # type: ignore[attr-defined]
    return isinstance(iterable, ast.Attribute) and iterable.attr in web.SUBMITTED_VALUES


# The parts of one text or document someone wrote or uploaded: a comment's mentions, an archive's elements.
_PIECES_OF_A_TEXT = frozenset({"split", "splitlines", "rsplit", "findall", "finditer", "iterfind"})


def _submitted_items(iterable: ast.expr) -> bool:
    """A form's or serializer's submitted items (`formset.deleted_objects`, `form.cleaned_data["tags"]`), or the
    pieces of one text (`line["rounds"].split(";")`): as many as someone typed or uploaded, not a table's rows."""
    if isinstance(iterable, ast.Call) and call_name(iterable) in _PIECES_OF_A_TEXT:
        return True
    if _form_fields(iterable):
        return False
    node = iterable
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Name)):
        if isinstance(node, ast.Name):
            return node.id in web.SUBMITTED_VALUES  # `update(self, instance, validated_data)`
        if isinstance(node, ast.Attribute) and node.attr in web.SUBMITTED_DATA_ATTRIBUTES:
            return True
        if isinstance(node, ast.Call) and _commit_false(node):
            return True  # `formset.save(commit=False)`: the objects the client submitted
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


# Test modules create and read rows one by one on purpose (fixtures, assertions); no user waits on them.
@check(QUERY_IN_LOOP, runs_on_tests=False)
def query_in_loop(index: ModuleIndex) -> Iterator[Report]:
    """query-in-loop: a call that sends SQL, or a query iterated, once per item."""
    for scope in index.scopes:
        covered: set[int] = set()
        for site in scope.calls:
            if site.frame is None or site.leaves_loop or id(site.node) in covered:
                continue
            verdict = per_iteration_query(site.node, scope)
            through = None
            if verdict is None:
                if calls_another_module(site.node, index) and not iterates_rows(site.frame, scope):
                    continue  # another module's helper: reported per row of a query only (a precision choice)
                through = _querying_helper(site.node, scope, index)
                if through is None:
                    continue
                verdict = through[1], through[2]
            scale = loop_scale(site.frame, scope, index)
            if scale is LoopScale.FIXED or _served_by_prefetch(site.node, site.frame, scope):
                continue
            if _now_and_then(site.node, site.frame):
                continue
            _cover_chain(site.node, covered)
            method, framework = verdict
            isolated = method in _ISOLATING_METHODS and _in_isolating_try(site.node, site.frame)
            shown = f"{short_call(site.node)}, which calls {short_call(through[0])}," if through else None
            yield _report(site.node, method, framework, scale, isolated, shown)
        yield from _queries_iterated_per_item(scope, index, covered)


def _report(
    call: ast.Call, method: str, framework: str, scale: LoopScale, isolated: bool = False, shown: str | None = None
) -> Report:
    note = _ISOLATED_COMMIT if isolated else _PAYLOAD_SCALE if scale is LoopScale.PAYLOAD else ""
    return Report(
        QUERY_IN_LOOP,
        call,
        {"call": shown or short_call(call), "scale": note, "batch": _batch_advice(method, framework)},
        lowered_by=1 if note else 0,
        framework=framework,
        operation=method,
    )


# Decorators that remember a function's results: calling it again sends no query.
_MEMOIZING = frozenset({"lru_cache", "cache", "cached", "memoize", "cached_property", "cachedmethod"})


def _querying_helper(call: ast.Call, caller: Scope, index: ModuleIndex) -> tuple[ast.Call, str, str] | None:
    """`price_of(isbn)` or `self.get_service(id)`: a function of this module or of another module of the project,
    or a method of the caller's class, that always sends a query.

    (the query call inside it, method, framework); None when the helper may return without querying
    (only queries inside its own loops or branches), remembers its results, or is not known.
    """
    func = call.func
    helper = index.callee(call, caller)
    if helper is None and _on_an_attribute_of_self(func):
        return _querying_collaborator(func, caller, index)  # type: ignore[arg-type]
    if helper is None and isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "self":
        return None  # a method this module does not declare
    # `services.price_of(isbn)`: a function of another project module, known by its dotted name
    key: object = id(helper) if helper is not None else dotted_name(func) or ""
    summaries: dict[object, tuple[ast.Call, str, str] | None]
    summaries = index.memo.setdefault("querying_helpers", {})  # type: ignore[assignment]
    if key not in summaries:
        summaries[key] = None  # a helper that calls itself is not followed into itself
        imported = imported_helper(func, index) if helper is None else None
        if helper is not None:
            summaries[key] = _always_queries(helper, index)
        elif imported is not None:
            summaries[key] = _always_queries(*imported)
    return summaries[key]


def _on_an_attribute_of_self(func: ast.expr) -> bool:
    """`self.store.get_all(...)`: a method of an object the caller's class holds."""
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Attribute)
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "self"
    )


def _querying_collaborator(func: ast.Attribute, caller: Scope, index: ModuleIndex) -> tuple[ast.Call, str, str] | None:
    """`self.workflow_store.get_all_workflows(...)` where `__init__` alone sets `self.workflow_store =
    WorkflowStore()`, a class of this module or another of the project, whose method always queries."""
    owner = caller.owner_class
    attribute = func.value.attr  # type: ignore[attr-defined]
    if owner is None:
        return None
    summaries: dict[object, tuple[ast.Call, str, str] | None]
    summaries = index.memo.setdefault("querying_helpers", {})  # type: ignore[assignment]
    key = ("collaborator", owner.name, attribute, func.attr)
    if key not in summaries:
        summaries[key] = None
        made = _made_in_init(owner, attribute)
        if made is not None:
            local = index.module.functions.get((getattr(made, "id", ""), func.attr))
            found = (local, index) if local is not None else imported_method(made, func.attr, index)
            if found is not None:
                summaries[key] = _always_queries(*found)
    return summaries[key]


def _made_in_init(owner: ast.ClassDef, attribute: str) -> ast.expr | None:
    """The class whose instance `__init__` stores as `self.<attribute>`, when that is the attribute's only
    assignment in the class."""
    made: list[ast.expr] = []
    for node in ast.walk(owner):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == attribute
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    made.append(node.value)  # type: ignore[arg-type]
    if len(made) != 1 or not isinstance(made[0], ast.Call):
        return None
    init = next((f for f in owner.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is None or not any(n is made[0] for n in ast.walk(init)):
        return None
    cls = made[0].func
    name = cls.id if isinstance(cls, ast.Name) else getattr(cls, "attr", "")
    return cls if name[:1].isupper() else None


def _always_queries(helper: Scope, index: ModuleIndex) -> tuple[ast.Call, str, str] | None:
    """The first query a function sends on every call, itself or through a helper of its own, unless it
    remembers its results."""
    node = helper.node
    decorators = {  # `@lru_cache` and `@lru_cache(maxsize=None)` alike
        getattr(d, "id", None) or getattr(d, "attr", None)
        for d in (getattr(d, "func", d) for d in node.decorator_list)  # type: ignore[attr-defined]
    }
    if decorators & _MEMOIZING:
        return None
    always = {id(n) for n in always_run(node.body)}  # type: ignore[attr-defined]
    for site in helper.calls:
        if site.frame is None and id(site.node) in always:
            verdict = per_iteration_query(site.node, helper)
            if verdict is not None:
                return (site.node, *verdict)
            through = _querying_helper(site.node, helper, index)
            if through is not None:
                return through
    return None


def _in_isolating_try(call: ast.Call, frame: LoopFrame) -> bool:
    """The call sits in a `try` of the loop body whose handlers go on with the next item (no re-raise)."""
    for statement in frame.body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Try) or not node.handlers:
                continue
            if any(isinstance(n, ast.Raise) for h in node.handlers for n in ast.walk(h)):
                continue
            guarded = [*node.body, *(s for h in node.handlers for s in h.body)]  # a commit on failure, too
            if any(inner is call for s in guarded for inner in ast.walk(s)):
                return True
    return False


def _now_and_then(call: ast.Call, frame: LoopFrame) -> bool:
    """The call runs under an `if` that lets only some items through on purpose: every n-th item
    (`if i % 500 == 0`), or a throttle whose own body moves its mark (`if due < now(): ...; due = now() + 5`)."""
    for statement in frame.body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.If) or not any(inner is call for s in node.body for inner in ast.walk(s)):
                continue
            if _every_nth(node.test):
                return True
            tested = _compared_names(node.test)
            moved = {t.id for s in node.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
            if tested & moved:
                return True
    return False


def _compared_names(test: ast.expr) -> set[str]:
    """Names an ordering comparison weighs directly (`due < now()`, `now() - last > 5`), not through attributes."""
    names: set[str] = set()
    for node in ast.walk(test):
        if not isinstance(node, ast.Compare) or not all(isinstance(o, _ORDERINGS) for o in node.ops):
            continue
        for operand in [node.left, *node.comparators]:
            parts = [operand.left, operand.right] if isinstance(operand, ast.BinOp) else [operand]
            names.update(p.id for p in parts if isinstance(p, ast.Name))
    return names


_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _every_nth(test: ast.expr) -> bool:
    """`i % 500 == 0`, `not i % 500`: true for one item in n."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    elif isinstance(test, ast.Compare) and len(test.comparators) == 1:
        test = test.left
    return (
        isinstance(test, ast.BinOp)
        and isinstance(test.op, ast.Mod)
        and isinstance(test.right, ast.Constant)
        and isinstance(test.right.value, int)
        and test.right.value > 1
    )


def _queries_iterated_per_item(scope: Scope, index: ModuleIndex, covered: set[int]) -> Iterator[Report]:
    """A nested loop over a query built inside the outer loop runs it once per outer item."""
    for loop in scope.loops:
        iterable = loop.iter
        if loop.parent is None or iterable is None or not isinstance(iterable, ast.Call):
            continue
        scale = loop_scale(loop.parent, scope, index)
        if scale is LoopScale.FIXED or id(iterable) in covered:
            continue
        shape = describe_query(iterable, scope)
        if shape is None:
            continue
        _cover_chain(iterable, covered)
        yield _report(iterable, "", shape.framework, scale)


def _cover_chain(call: ast.expr, covered: set[int]) -> None:
    node: ast.expr = call
    while True:
        if isinstance(node, ast.Call):
            covered.add(id(node))
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return
