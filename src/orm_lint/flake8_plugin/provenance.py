"""Where a value comes from: the client's request, the caller, or the program's own data.

Trust is decided by the value's origin, never by how a name is spelled: `request.GET`
is request data although `GET` is written in capitals, and a local called `query` that
holds `request.GET["q"]` is request data although the name says SQL.
"""

from __future__ import annotations

import ast
from enum import IntEnum

from ..frameworks import web
from .endpoints import endpoint_name
from .queries import call_name
from .scope import ModuleIndex, Scope

_MAX_DEPTH = 8
# Methods of strings and mappings whose result is made of the receiver's text.
STRING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "title", "items", "keys", "values", "copy"})
# Calls that pass their input's text through (changed, but still the client's).
_TEXT_PASSING_CALLS = STRING_METHODS | frozenset(
    {
        "str",
        "format",
        "join",
        "get",
        "getlist",
        "pop",
        "replace",
        "split",
        "rsplit",
        "splitlines",
        "decode",
        "encode",
        "loads",
        "unquote",
        "unquote_plus",
        "dict",
        "list",
        "tuple",
        "sorted",
        "reversed",
        "removeprefix",
        "removesuffix",
        "casefold",
        "get_argument",
    }
)


class Origin(IntEnum):
    """How far a value is from the client, ordered from least to most dangerous."""

    PROGRAM = 0  # constants, schema identifiers
    CONFIGURED = 1  # a setting, an environment variable, Alembic's options
    STORED = 2  # a value read from the database
    CALLER = 3  # a function parameter, or a value orm-lint cannot trace
    REQUEST = 4  # what the client sent


# Roots of configuration: what the deployment sets, not what a client sends.
CONFIGURATION_ROOTS = frozenset({"settings", "config", "conf", "os", "op", "context", "current_app", "environ"})


def from_request(expr: ast.expr, index: ModuleIndex, scope: Scope, depth: int = 0) -> bool:
    """True when the value is (or is derived from) data the client sent."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, ast.Subscript):
        return from_request(expr.value, index, scope, depth + 1)
    if isinstance(expr, ast.Attribute):
        if is_request_object(expr.value, index, scope):
            return expr.attr in web.REQUEST_DATA_ATTRIBUTES
        if expr.attr in web.VIEW_URL_ATTRIBUTES and _is_view_self(expr.value, scope):
            return True
        return from_request(expr.value, index, scope, depth + 1)
    if isinstance(expr, ast.Call):
        return _call_from_request(expr, index, scope, depth)
    if isinstance(expr, ast.Await):
        return from_request(expr.value, index, scope, depth + 1)
    if isinstance(expr, ast.Name):
        return _name_from_request(expr.id, index, scope, depth)
    if isinstance(expr, ast.JoinedStr):
        return any(
            from_request(p.value, index, scope, depth + 1) for p in expr.values if isinstance(p, ast.FormattedValue)
        )
    if isinstance(expr, ast.BinOp):
        return from_request(expr.left, index, scope, depth + 1) or from_request(expr.right, index, scope, depth + 1)
    if isinstance(expr, ast.BoolOp):
        return any(from_request(v, index, scope, depth + 1) for v in expr.values)
    if isinstance(expr, ast.IfExp):
        return from_request(expr.body, index, scope, depth + 1) or from_request(expr.orelse, index, scope, depth + 1)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(from_request(e, index, scope, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return any(from_request(v, index, scope, depth + 1) for v in expr.values)
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
        made = [expr.key, expr.value] if isinstance(expr, ast.DictComp) else [expr.elt]
        return any(from_request(e, index, scope, depth + 1) for e in made) or any(
            from_request(g.iter, index, scope, depth + 1) for g in expr.generators
        )
    if isinstance(expr, ast.Starred):
        return from_request(expr.value, index, scope, depth + 1)
    return False


def is_request_object(expr: ast.expr, index: ModuleIndex, scope: Scope) -> bool:
    """`request` (a handler's parameter or Flask's proxy), `req`, or `self.request`."""
    if isinstance(expr, ast.Name):
        if expr.id in web.REQUEST_NAMES:
            return _declared_request(expr.id, index, scope)
        imported = index.imports.get(expr.id, "")
        if imported.endswith(".request") and imported.startswith(web.REQUEST_PROXY_MODULES):
            return True  # `from flask import request as flask_request`
        return any(_annotation_name(a) in {"Request", "HttpRequest"} for a in _param_annotations(expr.id, scope))
    return isinstance(expr, ast.Attribute) and expr.attr == "request" and _is_self(expr.value)


def _declared_request(name: str, index: ModuleIndex, scope: Scope) -> bool:
    """A parameter of an enclosing function, or `request` imported from a web framework."""
    current: Scope | None = scope
    while current is not None:
        if name in current.params:
            return True
        if current.assignments.get(name):
            return False  # a local of the same name holds something else
        current = current.parent
    return index.imports.get(name, "").startswith(web.REQUEST_PROXY_MODULES)


def _call_from_request(call: ast.Call, index: ModuleIndex, scope: Scope, depth: int) -> bool:
    name = call_name(call) or ""
    func = call.func
    if isinstance(func, ast.Attribute):
        if is_request_object(func.value, index, scope):
            return name in web.REQUEST_DATA_METHODS
        if from_request(func.value, index, scope, depth + 1):
            return True  # `form.save(commit=False)`, `data.get("q")`: what a client's data yields
    elif name[:1].isupper() and not name.isupper():
        # `OrderForm(request.POST)`, `ItemSerializer(data=request.data)`: an object made of the client's data
        return any(from_request(a, index, scope, depth + 1) for a in [*call.args, *(k.value for k in call.keywords)])
    if name in _TEXT_PASSING_CALLS:
        return any(from_request(a, index, scope, depth + 1) for a in [*call.args, *(k.value for k in call.keywords)])
    if isinstance(func, ast.Name):
        helper = _module_function(func.id, index)
        if helper is not None and helper is not scope:
            return any(r.value is not None and from_request(r.value, index, helper, depth + 1) for r in helper.returns)
    return False


def _name_from_request(name: str, index: ModuleIndex, scope: Scope, depth: int) -> bool:
    current: Scope | None = scope
    while current is not None:
        if name in current.params:
            return (
                is_handler_input(name, index, current, depth)
                or _uploaded_files(name, current)
                or _passed_by_every_caller(name, index, current, depth)
            )
        frames = current.loop_bindings.get(name)
        bindings = [
            *current.assignments.get(name, []),
            *current.contributions.get(name, []),
        ]
        if frames or bindings:
            return any(
                f.iter is not None and from_request(f.iter, index, current, depth + 1) for f in frames or []
            ) or any(from_request(v, index, current, depth + 1) for v in bindings)
        current = current.parent
    return False


def is_handler_input(name: str, index: ModuleIndex, scope: Scope, depth: int = 0) -> bool:
    """A parameter of a request handler that the client fills: a URL capture, a query or body field, or
    the message a Django Channels consumer receives."""
    if _consumer_message(name, scope) or _channel_layer_event(name, index, scope, depth):
        return True
    annotation = _handler_parameter(name, index, scope)
    return annotation is not None and annotation not in web.SCALAR_ANNOTATIONS


def _consumer_message(name: str, scope: Scope) -> bool:
    """`receive_json(self, content)` of a `...Consumer`: what the websocket client sent."""
    node, owner = scope.node, scope.owner_class
    if owner is None or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if not node.name.startswith("receive") or not any(
        (getattr(b, "attr", None) or getattr(b, "id", "")).endswith("Consumer") for b in owner.bases
    ):
        return False
    return name in [a.arg for a in node.args.args[1:]]


def _uploaded_files(name: str, scope: Scope) -> bool:
    """A parameter annotated as files a client uploaded (`uploads: list[UploadedFile]`, `file: UploadFile`)."""
    return any(web.UPLOADED_FILE.search(ast.unparse(a)) for a in _param_annotations(name, scope))


def _passed_by_every_caller(name: str, index: ModuleIndex, scope: Scope, depth: int) -> bool:
    """Every call of this function in its module passes request data for the parameter: a consumer's handler
    given the message (`self.receive_teams(content)`), a helper given the posted ids."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or depth > _MAX_DEPTH:
        return False
    positional = index.positional_parameters(scope)
    known: dict[tuple[int, str], bool] = index.memo.setdefault("request_parameters", {})  # type: ignore[assignment]
    key = (id(scope), name)
    if key not in known:
        known[key] = False  # a function that calls itself does not vouch for itself
        known[key] = _every_caller_passes_request(name, positional, index, scope, depth)
    return known[key]


def _every_caller_passes_request(
    name: str, positional: list[str], index: ModuleIndex, scope: Scope, depth: int
) -> bool:
    callers = index.callers(scope)
    if not callers:
        return False
    for call, caller in callers:
        passed = next((k.value for k in call.keywords if k.arg == name), None)
        if passed is None and name in positional:
            place = positional.index(name)
            if place < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: place + 1]):
                passed = call.args[place]
        if passed is None or not from_request(passed, index, caller, depth + 1):
            return False
    return True


def _channel_layer_event(name: str, index: ModuleIndex, scope: Scope, depth: int) -> bool:
    """`broadcast_checkin(self, event)` of a consumer: the channel layer hands it the dict a `group_send(...,
    {"type": "broadcast_checkin", "content": content})` of the module sent, and that dict carries what a client sent."""
    node, owner = scope.node, scope.owner_class
    if owner is None or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or depth > _MAX_DEPTH:
        return False
    if [a.arg for a in node.args.args[1:2]] != [name] or not _is_consumer(owner):
        return False
    return any(
        any(from_request(value, index, sender, depth + 1) for value in values)
        for handler, values, sender in _channel_messages(index)
        if handler == node.name
    )


def _is_consumer(owner: ast.ClassDef) -> bool:
    names = [owner.name, *(getattr(b, "attr", None) or getattr(b, "id", "") for b in owner.bases)]
    return any(n.endswith("Consumer") for n in names)


def _channel_messages(index: ModuleIndex) -> list[tuple[str, list[ast.expr], Scope]]:
    """(handler method, the message's other values, the sending scope) of each `group_send`/`send` of a dict
    literal with a constant "type" in the module; read once per module."""
    found: list[tuple[str, list[ast.expr], Scope]] | None = index.memo.get("channel_messages")  # type: ignore
    if found is None:
        found = []
        for sender in index.scopes:
            for site in sender.calls:
                if _sender_name(site.node) not in {"group_send", "send"}:
                    continue
                for message in site.node.args:
                    if not isinstance(message, ast.Dict):
                        continue
                    fields = {k.value: v for k, v in zip(message.keys, message.values) if isinstance(k, ast.Constant)}
                    kind = fields.pop("type", None)
                    if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                        found.append((kind.value.replace(".", "_"), list(fields.values()), sender))
        index.memo["channel_messages"] = found
    return found


def _sender_name(call: ast.Call) -> str:
    """`group_send` for `layer.group_send(...)` and for `async_to_sync(layer.group_send)(...)`."""
    func = call.func
    if isinstance(func, ast.Call) and call_name(func) in {"async_to_sync", "sync_to_async"} and func.args:
        func = func.args[0]
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def is_validated_scalar(name: str, index: ModuleIndex, scope: Scope) -> bool:
    """A handler parameter the framework converts to a number, date or UUID before the handler runs."""
    return _handler_parameter(name, index, scope) in web.SCALAR_ANNOTATIONS


def _handler_parameter(name: str, index: ModuleIndex, scope: Scope) -> str | None:
    """The annotation's name ("" when none) of a handler parameter the client fills, else None."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or name in web.REQUEST_NAMES:
        return None
    if name in {"self", "cls"} or endpoint_name(scope, index, index.endpoint_decorators) is None:
        return None
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[str, ast.expr] = dict(
        zip([a.arg for a in positional][-len(arguments.defaults) :], arguments.defaults)
    )
    defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None})
    for argument in [*positional, *arguments.kwonlyargs]:
        if argument.arg != name:
            continue
        default = defaults.get(name)
        if isinstance(default, ast.Call) and call_name(default) in web.INJECTED_DEFAULTS:
            return None
        annotation = _annotation_name(argument.annotation)
        return None if annotation in web.INJECTED_ANNOTATIONS else annotation
    return None


def _annotation_name(annotation: ast.expr | None) -> str:
    """`int` for `int`, `int | None`, `Optional[int]`, `Annotated[int, Query()]`; the class name otherwise."""
    if annotation is None:
        return ""
    if isinstance(annotation, ast.BinOp):  # `int | None`
        left = _annotation_name(annotation.left)
        return left if left not in {"", "None"} else _annotation_name(annotation.right)
    if isinstance(annotation, ast.Subscript):
        outer = _annotation_name(annotation.value)
        if outer in {"Optional", "Annotated"}:
            inner = annotation.slice
            first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
            return _annotation_name(first)
        return outer
    if isinstance(annotation, ast.Attribute):
        return annotation.attr
    if isinstance(annotation, ast.Name):
        return annotation.id
    if isinstance(annotation, ast.Constant):
        return str(annotation.value)
    return ""


def _param_annotations(name: str, scope: Scope) -> list[ast.expr]:
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    arguments = node.args
    return [
        a.annotation
        for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if a.arg == name and a.annotation is not None
    ]


def _is_self(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "self"


def _is_view_self(expr: ast.expr, scope: Scope) -> bool:
    """`self` in a class-based view, whose `kwargs`/`args` are the URL's captured values."""
    owner = scope.owner_class
    if not _is_self(expr) or owner is None:
        return False
    names = [
        owner.name,
        *(getattr(b, "attr", getattr(b, "id", "")) for b in owner.bases),
    ]
    return any(n.endswith(("View", "ViewSet", "Mixin")) for n in names)


def _module_function(name: str, index: ModuleIndex) -> Scope | None:
    functions = index.memo.get("module_functions")
    if functions is None:
        functions = {s.name: s for s in index.scopes if s.is_function and s.parent is index.module}
        index.memo["module_functions"] = functions
    return functions.get(name)  # type: ignore[attr-defined, no-any-return]


# Calls whose result is read from the database.
_DATABASE_READS = frozenset(
    {
        "fetchone",
        "fetchall",
        "fetchmany",
        "first",
        "get",
        "one",
        "one_or_none",
        "scalar",
        "scalars",
        "scalar_one",
        "scalar_one_or_none",
        "all",
        "execute",
        "filter",
        "get_object_or_404",
        "values",
        "values_list",
        "iterator",
    }
)


def origin(expr: ast.expr, index: ModuleIndex, scope: Scope, depth: int = 0) -> Origin:
    """The most dangerous source a value that is not constant can have come from, as far as syntax shows."""
    if from_request(expr, index, scope):
        return Origin.REQUEST
    return _origin_of_rest(expr, index, scope, depth)


def _origin_of_rest(expr: ast.expr, index: ModuleIndex, scope: Scope, depth: int) -> Origin:
    if _read_from_database(expr):
        return Origin.STORED
    root = _root(expr)
    if not isinstance(root, ast.Name) or depth > _MAX_DEPTH:
        return Origin.CALLER
    if root.id in CONFIGURATION_ROOTS:
        return Origin.CONFIGURED
    current: Scope | None = scope
    while current is not None:
        name = root.id
        if name in current.params:
            return Origin.CALLER
        sources = [f.iter for f in current.loop_bindings.get(name, []) if f.iter is not None]
        sources += current.assignments.get(name, [])
        if sources:
            return max(_origin_of_rest(s, index, current, depth + 1) for s in sources)
        current = current.parent
    return Origin.CALLER


def _root(expr: ast.expr) -> ast.expr:
    """`row` for `row.name`, `row["name"]`, `str(row.name).strip()`."""
    while True:
        if isinstance(expr, (ast.Attribute, ast.Subscript)):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            expr = expr.func.value
        elif isinstance(expr, ast.Call) and expr.args and call_name(expr) in _TEXT_PASSING_CALLS:
            expr = expr.args[0]
        else:
            return expr


def _read_from_database(source: ast.expr) -> bool:
    if isinstance(source, ast.Await):
        source = source.value
    return isinstance(source, ast.Call) and call_name(source) in _DATABASE_READS
