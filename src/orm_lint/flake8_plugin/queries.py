"""Recognising queries in syntax: what a chain of calls builds, and what it eager-loads.

A chain such as `Book.objects.select_related("author").filter(x=1)` or
`session.scalars(select(Order).options(joinedload(Order.customer)))` is described as a
`QueryShape`. Local variables are followed inside one function; anything else is unknown,
and unknown never produces a finding.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..files import read_source
from ..frameworks import django, sqlalchemy
from ..project.functions import ProjectFunction, imported_function
from .scope import LoopFrame, ModuleIndex, Scope, build_index

_MAX_DEPTH = 6
MATERIALIZERS = frozenset({"list", "tuple", "sorted", "set", "iter", "reversed", "frozenset"})
_SESSION_RUNNERS = frozenset({"query", "execute", "scalars", "exec", "scalar"})


@dataclass(frozen=True)
class Step:
    """One link of a method chain: `.name` or `.name(...)`."""

    name: str
    call: ast.Call | None


def unchain(expr: ast.expr) -> tuple[ast.expr, list[Step]]:
    """Split `a.b(x).c` into its root `a` and the steps `b(x)`, `c`, innermost first."""
    steps: list[Step] = []
    node = expr
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            steps.append(Step(node.func.attr, node))
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            steps.append(Step(node.attr, None))
            node = node.value
        else:
            break
    steps.reverse()
    return node, steps


def dotted_name(expr: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def call_name(call: ast.Call) -> str | None:
    """`f` for `f(...)`, `m` for `x.m(...)`."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def looks_like_model(expr: ast.expr) -> str | None:
    """`Book` or `models.Book`: a capitalised class name; returns the class name."""
    if isinstance(expr, ast.Name):
        name = expr.id
    elif isinstance(expr, ast.Attribute):
        name = expr.attr
    else:
        return None
    if name[:1].isupper() and not name.isupper():
        return name
    return None


def is_session_like(name: str) -> bool:
    return sqlalchemy.is_session_name(name) or name.lower() in {"conn", "connection"}


_KNOWN_METHODS = {
    "django": django.LAZY_METHODS | django.EVALUATING_METHODS | django.WRITE_METHODS | {"iterator"},
    "sqlalchemy": sqlalchemy.STATEMENT_METHODS | sqlalchemy.QUERY_TERMINAL_METHODS | sqlalchemy.RESULT_METHODS,
}


@dataclass
class QueryShape:
    """What a query expression is known to be."""

    framework: str  # "django" or "sqlalchemy"
    entity: str | None  # model whose instances the rows are; None for rows, values, scalars of columns
    steps: list[Step]
    loaded: set[str] = field(default_factory=set)
    loads_everything: bool = False
    sql_text: str | None = None

    def has_step(self, names: frozenset[str] | set[str]) -> bool:
        return any(step.name in names for step in self.steps)

    @property
    def terminal(self) -> str | None:
        """The method that already ran the query (`in_bulk`, `first`, `all` ...), if any."""
        if not self.steps or self.steps[-1].call is None:
            return None
        name = self.steps[-1].name
        if self.framework == "django":
            evaluating = django.EVALUATING_METHODS | django.WRITE_METHODS | {"in_bulk", "aggregate"}
        else:
            evaluating = sqlalchemy.QUERY_TERMINAL_METHODS | {"fetchall"}
        return name if name in evaluating else None

    @property
    def only_known_methods(self) -> bool:
        """No custom manager/queryset method whose effect syntax cannot see."""
        return not self.custom_methods

    @property
    def custom_methods(self) -> list[str]:
        """The project's own manager/queryset methods in the chain (`Book.objects.visible()`)."""
        known = _KNOWN_METHODS[self.framework]
        return [step.name for step in self.steps if step.name not in known]

    @property
    def is_lazy_queryset(self) -> bool:
        """A Django QuerySet built only with methods that return QuerySets."""
        return self.framework == "django" and all(step.name in django.LAZY_METHODS for step in self.steps)

    def loads(self, relation: str) -> bool:
        return self.loads_everything or relation in self.loaded

    def extended(self, steps: list[Step]) -> QueryShape | None:
        """The query with more steps applied, or None when the steps leave query territory."""
        if steps and (self.terminal is not None or any(step.call is None for step in steps)):
            return None  # a result (list, dict, object) or an attribute of one
        shape = replace(self, steps=self.steps + steps, loaded=set(self.loaded))
        shape._absorb(steps)
        return shape

    def _absorb(self, steps: list[Step]) -> None:
        for step in steps:
            if step.call is None:
                continue
            if step.name in django.NON_ENTITY_METHODS or step.name in {"with_only_columns", "add_columns"}:
                self.entity = None
            elif step.name == "select_related":
                if not step.call.args:
                    self.loads_everything = True
                self.loaded.update(_lookup_heads(step.call))
            elif step.name == "prefetch_related":
                self.loaded.update(_lookup_heads(step.call))
            elif step.name == "options":
                _loader_option_names(step.call, self)

    @property
    def is_bounded(self) -> bool:
        """Limited, paginated, or restricted to given keys: its size does not grow with the table."""
        if self.has_step(sqlalchemy.BOUNDING_METHODS):
            return True
        if self.sql_text is not None and "limit" in self.sql_text.lower():
            return True
        for step in self.steps:
            if step.call is None:
                continue
            for keyword in step.call.keywords:
                if keyword.arg and (keyword.arg.endswith("__in") or keyword.arg in {"pk", "id"}):
                    return True
            for node in ast.walk(step.call):
                if isinstance(node, ast.Attribute) and node.attr in {"in_", "between"}:
                    return True
        return False


def _lookup_heads(call: ast.Call) -> set[str]:
    """Relations named by `select_related`/`prefetch_related` arguments (first path segment)."""
    names: set[str] = set()
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value.split(django.LOOKUP_SEPARATOR)[0])
        elif isinstance(arg, ast.Call) and call_name(arg) == django.PREFETCH_CLASS:
            if arg.args and isinstance(arg.args[0], ast.Constant) and isinstance(arg.args[0].value, str):
                names.add(arg.args[0].value.split(django.LOOKUP_SEPARATOR)[0])
            for keyword in arg.keywords:
                if keyword.arg == "to_attr" and isinstance(keyword.value, ast.Constant):
                    names.add(str(keyword.value.value))
        else:
            # A computed lookup: assume it loads what the loop needs (precision first).
            names.add("*")
    return names


def _loader_option_names(call: ast.Call, shape: QueryShape) -> None:
    """Every relation named inside `.options(...)`; a `*` wildcard loads everything."""
    for arg in call.args:
        if isinstance(arg, (ast.Name, ast.Starred, ast.Subscript)):
            # Options built elsewhere: unknown, assume they load what is needed.
            shape.loads_everything = True
            continue
        for node in ast.walk(arg):
            if isinstance(node, ast.Attribute):
                shape.loaded.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value == "*":
                    shape.loads_everything = True
                shape.loaded.add(node.value)


def _select_entity(call: ast.Call) -> str | None:
    if len(call.args) == 1 and not call.keywords:
        return looks_like_model(call.args[0])
    return None


def _is_select_call(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and call_name(expr) in sqlalchemy.SELECT_FUNCTIONS


def describe_query(expr: ast.expr, scope: Scope, depth: int = 0) -> QueryShape | None:
    """The QueryShape of an expression, or None when it is not recognisably a query."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Await):  # `(await session.exec(stmt)).all()`: the async session's result
        return describe_query(expr.value, scope, depth + 1)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in MATERIALIZERS
        and len(expr.args) == 1
    ):
        return describe_query(expr.args[0], scope, depth + 1)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
        return describe_query(expr.value, scope, depth + 1)  # `qs[:200]`: still rows of the query
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):  # `qs_a | qs_b`: the union of two querysets
        left, right = describe_query(expr.left, scope, depth + 1), describe_query(expr.right, scope, depth + 1)
        if left is None or right is None or left.entity != right.entity or left.framework != right.framework:
            return None
        return replace(left, loaded=left.loaded & right.loaded, loads_everything=False)
    root, steps = unchain(expr)
    if isinstance(root, ast.Await) and steps:  # `(await session.execute(stmt)).scalars().all()`
        inner = describe_query(root.value, scope, depth + 1)
        return inner.extended(steps) if inner is not None else None
    # `models.Book.objects`: the model is the last capitalised step before the manager.
    while steps and steps[0].call is None and looks_like_model(_attribute(root, steps[0].name)) and len(steps) > 1:
        root, steps = _attribute(root, steps[0].name), steps[1:]

    # Django: Model.objects..., and `cls.objects...` in a model's classmethod
    if steps and steps[0].call is None and steps[0].name in django.MANAGER_ATTRIBUTES:
        model = looks_like_model(root)
        if model is None and isinstance(root, ast.Name) and root.id == "cls" and scope is not None:
            model = scope.owner_class.name if scope.owner_class is not None else None
        if model:
            return _shape("django", model, steps[1:])
    # Flask-SQLAlchemy legacy: Model.query...
    if steps and steps[0].call is None and steps[0].name == "query":
        model = looks_like_model(root)
        if model:
            return _shape("sqlalchemy", model, steps[1:])
    # select(Model)...
    if isinstance(root, ast.Call) and _is_select_call(root):
        return _shape("sqlalchemy", _select_entity(root), steps)
    if isinstance(root, ast.Name) and root.id in {"db", "sa", "sqlalchemy", "sqlmodel"} and steps:
        first = steps[0]
        if first.call is not None and first.name == "select":
            return _shape("sqlalchemy", _select_entity(first.call), steps[1:])
    # session.query(Model) / session.scalars(stmt) / db.session.execute(stmt)
    for index, step in enumerate(steps):
        if step.call is None or step.name not in _SESSION_RUNNERS:
            continue
        receiver = steps[index - 1].name if index else (root.id if isinstance(root, ast.Name) else "")
        if not is_session_like(receiver):
            continue
        rest = steps[index + 1 :]
        if step.name == "query":
            return _shape("sqlalchemy", _select_entity(step.call), rest)
        if not step.call.args:
            return None
        inner = _statement(step.call.args[0], scope, depth)
        if inner is None or inner.terminal is not None:
            return None
        shape = inner.extended(rest)
        if shape is not None and step.name == "execute" and not any(s.name == "scalars" for s in rest):
            shape.entity = None  # rows, not entities
        return shape
    # A local variable holding a query, refined further here.
    if isinstance(root, ast.Name) and scope is not None:
        base = _resolve_name(root.id, scope, depth)
        if base is not None:
            return base.extended(steps)
    # `visible_posts(user).filter(...)`, `self.readable_groups(user)`: a function of this module that returns a query
    if scope is not None and isinstance(root, ast.Call) and isinstance(root.func, ast.Name):
        returned = _returned_by_helper(root, scope, depth)
        return returned.extended(steps) if returned is not None else None
    if scope is not None and isinstance(root, ast.Name) and steps and steps[0].call is not None:
        # `self.readable_groups(user)`, or `services.visible_posts(user)`: a function of an imported module
        returned = _returned_by_helper(steps[0].call, scope, depth)
        return returned.extended(steps[1:]) if returned is not None else None
    return None


# Modules of the project whose functions were followed from another module: (path, size, mtime) -> their index,
# least recently used first.
_HELPER_MODULES: dict[tuple[str, int, int], ModuleIndex | None] = {}
_KEPT_HELPER_MODULES = 2  # a parsed module is ~30 bytes of memory per byte of source
# Each module being analysed, by its module scope: a query built from an imported function is resolved through
# that module's imports (a scope does not know its module's index). Entries go when the index is freed.
_MODULES: weakref.WeakValueDictionary[int, ModuleIndex] = weakref.WeakValueDictionary()


def follow_imports(index: ModuleIndex) -> None:
    """Let queries in `index` built by functions of other project modules be described (see `imported_helper`)."""
    _MODULES[id(index.module)] = index


def _module_of(scope: Scope) -> ModuleIndex | None:
    module = scope
    while module.parent is not None:
        module = module.parent
    index = _MODULES.get(id(module))
    return index if index is not None and index.module is module else None


def imported_helper(func: ast.expr, index: ModuleIndex, querying: bool = True) -> tuple[Scope, ModuleIndex] | None:
    """The function of another module of the project that `func` names (`visible_posts` imported from
    `app.services`, or `services.visible_posts`), with the index of its module: read and walked once per
    process, judged with the same checks as a function of the caller's own module.

    `querying`: only a function whose text may query (or calls another function of its module) is wanted, so the
    module is parsed only when a cheap test on its bytes says so."""
    found = _located(func, index, _SENDING if querying else None)
    return _function_of(found[0], index) if found is not None else None


def imported_method(cls: ast.expr, method: str, index: ModuleIndex) -> tuple[Scope, ModuleIndex] | None:
    """The method `method` of the project class `cls` names (`WorkflowStore` imported from another module), with
    the index of the class's module."""
    found = _located(cls, index, None)
    if found is None:
        return None
    module = _helper_module(found[0].path, index)
    scope = module.module.functions.get((found[0].name, method)) if module is not None else None
    return (scope, module) if scope is not None and module is not None else None


def _located(
    func: ast.expr, index: ModuleIndex, words: int | None
) -> tuple[ProjectFunction, tuple[str, int, int]] | None:
    """The project function `func` names and its module's stamp; None when its text lacks the `words` wanted.
    Looked up once per module and name (the rules ask again for every call of `timezone.now()`)."""
    dotted = dotted_name(func)
    project = index.project
    if dotted is None or not project.root:
        return None
    located: dict[tuple[str, int | None], tuple[ProjectFunction | None, tuple[str, int, int] | None]]
    located = index.memo.setdefault("located", {})  # type: ignore[assignment]
    key = (dotted, words)
    if key not in located:
        located[key] = _locate(dotted, index, words)
    found, stamp = located[key]
    if stamp is not None:
        CONSULTED.add(stamp)  # the caller's findings now depend on this module's content
    return (found, stamp) if found is not None and stamp is not None else None


def _locate(
    dotted: str, index: ModuleIndex, words: int | None
) -> tuple[ProjectFunction | None, tuple[str, int, int] | None]:
    """(the function, its module's stamp); the function is None when the module's text lacks the `words`."""
    project = index.project
    found = imported_function(project.root, project.near, index.imports, dotted)
    if found is None or os.path.abspath(found.path) == os.path.abspath(index.filename):
        return None, None
    try:
        status = os.stat(found.path)
    except OSError:
        return None, None
    stamp = (found.path, status.st_size, status.st_mtime_ns)
    if words is not None and found.name not in _texts_with(stamp)[words]:
        return None, stamp
    return found, stamp


def _function_of(found: ProjectFunction, caller: ModuleIndex) -> tuple[Scope, ModuleIndex] | None:
    helper_module = _helper_module(found.path, caller)
    if helper_module is None:
        return None
    helper = helper_module.module.functions.get(("", found.name))
    return (helper, helper_module) if helper is not None else None


def calls_another_module(call: ast.Call, index: ModuleIndex) -> bool:
    """The called function is not one of this module's own (nor a method of the caller's class)."""
    func = call.func
    if isinstance(func, ast.Name):
        return ("", func.id) not in index.module.functions
    return not _is_self_method(func)


# Names that hold a query's rows by convention: a Django admin action's `queryset` argument, a paginating helper's.
ROWS_BY_NAME = frozenset({"queryset", "qs"})


def iterates_rows(frame: LoopFrame | None, scope: Scope) -> bool:
    """Some enclosing loop goes over the rows of a query (`Book.objects.filter(...)`, a helper's query, an admin
    action's `queryset`), not over a list a document or a message holds."""
    while frame is not None:
        if frame not in _OVER_ROWS:  # once per loop, however many calls it holds
            iterable = frame.iter
            _OVER_ROWS[frame] = (isinstance(iterable, ast.Name) and iterable.id in ROWS_BY_NAME) or (
                iterable is not None and describe_query(iterable, scope) is not None
            )
        if _OVER_ROWS[frame]:
            return True
        frame = frame.parent
    return False


_OVER_ROWS: weakref.WeakKeyDictionary[LoopFrame, bool] = weakref.WeakKeyDictionary()


# The other modules of the project (path, size, mtime) whose functions the analysis consulted since it was last
# cleared: the results cache keeps a file's findings only while these are unchanged.
CONSULTED: set[tuple[str, int, int]] = set()


# Which module-level functions' text may send a query (_SENDING) or build one (_BUILDING), by module stamp,
# from the bytes alone: most imported helpers do neither, and their module is then never parsed.
_SENDING, _BUILDING = 0, 1
_TEXT_KINDS: dict[tuple[str, int, int], tuple[frozenset[str], frozenset[str]]] = {}
_TOP_LEVEL = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(|^(?:class|@|if|try)\b", re.MULTILINE)
_BUILDING_WORDS = re.compile(
    rb"\.objects\b|\.query\b|select\(|\.filter|\.exclude\(|\.order_by\(|\.options\(|select_related|"
    rb"prefetch_related|\.scalars\(|\.annotate\(|\.all\(|QuerySet|\.execute\(|\.exec\("
)
_SENDING_WORDS = re.compile(
    rb"\.objects\b|session|\.query\b|select\(|execute|cursor|\.save\(|\.delete\(|\.create\(|\.update\(|"
    rb"\.filter|\.get\(|\.commit\(|\.flush\(|\.refresh|\.scalar|\.all\(|\.first\(|\.exists\(|\.count\(|"
    rb"get_or_create|bulk_|Query|QuerySet|\.exec\("
)


def _texts_with(stamp: tuple[str, int, int]) -> tuple[frozenset[str], frozenset[str]]:
    """(functions whose text may send a query or calls another function of the module, functions whose text
    builds a query and returns something)."""
    if stamp not in _TEXT_KINDS:
        try:
            data = Path(stamp[0]).read_bytes()
        except OSError:
            data = b""
        starts = [(m.start(), m.group(1)) for m in _TOP_LEVEL.finditer(data)]
        texts = {
            name.decode("ascii", "replace"): data[start : starts[i + 1][0] if i + 1 < len(starts) else len(data)]
            for i, (start, name) in enumerate(starts)
            if name is not None
        }
        calls = {name: (name + "(").encode() for name in texts}
        sending = frozenset(
            name
            for name, text in texts.items()
            if _SENDING_WORDS.search(text) or any(c in text for other, c in calls.items() if other != name)
        )
        building = frozenset(name for name, text in texts.items() if b"return" in text and _BUILDING_WORDS.search(text))
        _TEXT_KINDS[stamp] = (sending, building)
    return _TEXT_KINDS[stamp]


def _helper_module(path: str, caller: ModuleIndex) -> ModuleIndex | None:
    try:
        status = os.stat(path)
        key = (path, status.st_size, status.st_mtime_ns)
        if key in _HELPER_MODULES:
            _HELPER_MODULES[key] = _HELPER_MODULES.pop(key)  # the most recently used last
        else:
            if len(_HELPER_MODULES) >= _KEPT_HELPER_MODULES:
                del _HELPER_MODULES[next(iter(_HELPER_MODULES))]  # the least recently used
            _HELPER_MODULES[key] = None  # a module that imports itself back is not followed into itself
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(read_source(Path(path).read_bytes()), filename=path)
            # Walked whatever it imports: a helper the caller's database code calls is read for what it does with
            # the session or model it is given (`def get_owned(session, model, pk)` imports no ORM).
            helper = build_index(
                tree, path, caller.endpoint_decorators, caller.backend, caller.pagination_helpers, True
            )
            if helper.is_migration:
                return None
            helper.project = caller.project.seen_from(path, helper.imports)
            follow_imports(helper)  # helpers of helpers, in their own module's terms
            _HELPER_MODULES[key] = helper
        return _HELPER_MODULES[key]
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    except Exception:  # noqa: BLE001 - a helper module that cannot be read is unknown; its caller is still checked
        return None


def _is_self_method(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"


def _returned_by_helper(call: ast.expr, scope: Scope, depth: int) -> QueryShape | None:
    """The query a function of this module (or a method of the caller's class) returns, the same on every return."""
    if not isinstance(call, ast.Call) or depth > _MAX_DEPTH:
        return None
    module = scope
    while module.parent is not None:
        module = module.parent
    helper = None
    if isinstance(call.func, ast.Name):
        helper = module.functions.get(("", call.func.id))
    elif _is_self_method(call.func) and scope.owner_class is not None:
        helper = module.functions.get((scope.owner_class.name, call.func.attr))  # type: ignore[union-attr]
    if helper is None and not _is_self_method(call.func):
        return _returned_by_imported(call, scope, depth)
    if helper is None or helper is scope or not helper.returns:
        return None
    return _returned_query(helper, depth)


# What each imported helper returns, by (module path, size, mtime, function): described once per process.
_RETURNED: dict[tuple[str, int, int, str], QueryShape | None] = {}


def _returned_by_imported(call: ast.Call, scope: Scope, depth: int) -> QueryShape | None:
    caller = _module_of(scope)
    located = _located(call.func, caller, _BUILDING) if caller is not None else None
    if located is None or caller is None:
        return None
    found, stamp = located
    key = (*stamp, found.name)
    if key not in _RETURNED:  # every query-building function of the module, described on its one parse
        names = _texts_with(stamp)[_BUILDING]
        _RETURNED.update({(*stamp, name): None for name in names})  # a helper's own result is not followed into
        module = _helper_module(found.path, caller)
        for name in names if module is not None else ():
            helper = module.module.functions.get(("", name))  # type: ignore[union-attr]
            if helper is not None and helper.returns:
                _RETURNED[(*stamp, name)] = _returned_query(helper, depth)
    shape = _RETURNED.get(key)
    return replace(shape, loaded=set(shape.loaded)) if shape is not None else None


def _returned_query(helper: Scope, depth: int) -> QueryShape | None:
    """The query a function returns, the same model and framework on every return."""
    shapes = [describe_query(r.value, helper, depth + 1) if r.value is not None else None for r in helper.returns]
    first = shapes[0]
    if first is None or any(s is None or s.entity != first.entity or s.framework != first.framework for s in shapes):
        return None
    # `return Model.objects.none()` (the anonymous user's case) has no rows: it loads nothing that matters.
    rows = [s for s in shapes if s is not None and not s.has_step(_NO_ROWS)] or shapes
    return replace(
        first,
        loaded=set.intersection(*(s.loaded for s in rows if s is not None)),
        loads_everything=all(s is not None and s.loads_everything for s in rows),
    )


_NO_ROWS = frozenset({"none"})


def _statement(arg: ast.expr, scope: Scope, depth: int) -> QueryShape | None:
    if isinstance(arg, ast.Call) and call_name(arg) == sqlalchemy.TEXT_FUNCTION:
        text = _constant_text(arg.args[0]) if arg.args else None
        return QueryShape("sqlalchemy", None, [], sql_text=text)
    return describe_query(arg, scope, depth + 1)


def _constant_text(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def _shape(framework: str, entity: str | None, steps: list[Step]) -> QueryShape | None:
    return QueryShape(framework, entity, []).extended(steps)


def _attribute(root: ast.expr, name: str) -> ast.Attribute:
    return ast.Attribute(value=root, attr=name, ctx=ast.Load())


def _resolve_name(name: str, scope: Scope, depth: int) -> QueryShape | None:
    """The query a local variable holds; `qs = qs.filter(...)` refinements are applied in order."""
    values = scope.values_of(name)
    if not values:
        return None
    shapes: list[QueryShape] = []
    refinements: list[Step] = []
    for value in values:
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
            value = value.value  # `qs = qs[:limit]`: the same rows, fewer of them
        root, steps = unchain(value)
        if isinstance(root, ast.Name) and root.id == name:
            refinements.extend(steps)  # qs = qs.filter(...): a refinement of itself
            continue
        shape = describe_query(value, scope, depth + 1)
        if shape is None:
            return None
        shapes.append(shape)
    if not shapes:
        return None
    merged = shapes[0]
    for other in shapes[1:]:
        if other.framework != merged.framework:
            return None
        merged = replace(
            merged,
            entity=merged.entity if merged.entity == other.entity else None,
            loaded=merged.loaded & other.loaded,
            loads_everything=merged.loads_everything and other.loads_everything,
        )
    return merged.extended(refinements)
