"""Where the project's code queries its models, and by which columns: the input of index advice.

A query site is one ORM query chain as written: `Order.objects.filter(customer=c, status="open").order_by("-placed")`
or `select(Order).where(Order.customer_id == c).order_by(Order.placed.desc())`. For each model it names, the site
records the column paths compared by equality (`=`, `IN`), those ranged (`<`, `>=`, `BETWEEN`) and those
ordered by, with its line, function and the kind of code it sits in (an endpoint weighs more than a management
command). Paths are resolved against the models when the index is merged (`author__name` crosses a relation,
`data__plan` reads a key of a JSON column). Conditions no plain index serves (`icontains`, `or_`, negations,
functions of a column) are left out. The sites are read from the syntax tree in the index's pass, never by import.
"""

from __future__ import annotations

import ast
import bisect
import re
from typing import Any

from ..frameworks import django
from ..paths import is_test_module
from .statements import base_names, called_name

# Bytes a module has when it may hold a query chain: most modules without them are never parsed for sites.
# `.get(` only as `Model.<manager>.get(`: a dictionary's `.get(` is in most modules, and a module parsed here
# is parsed twice in a cold run.
_MAY_QUERY = re.compile(rb"\.(filter|filter_by|where|order_by|exclude)\(|\b[A-Z]\w*\.\w+\.get\(|get_object_or_404\(")
# A statement without one of these names no step a site is recorded for (conditions, ordering, Django's
# shortcuts): its nodes need no visit.
_MAY_CHAIN = re.compile(
    rb"\.[ \t\\\r\n]*(filter|filter_by|where|order_by|exclude|get|get_or_create|update_or_create|first|last)\b"
    rb"|_or_404\b"
)
# No advice from code that does not run in production's request or job paths.
_NOT_ADVISED = re.compile(
    r"(^|/)(admin|admin\.py|fixtures|factories|factories\.py|seeds?|migrations|alembic|versions)(/|$)"
)
_DJANGO_CONDITION_STEPS = frozenset({"filter", "get", "get_or_create", "update_or_create", "first", "last"})
_EQUAL_LOOKUPS = frozenset({"exact", "in"})
_RANGE_LOOKUPS = frozenset({"gt", "gte", "lt", "lte", "range"})
# Lookups an index on the plain column does not serve (a function of it, a pattern inside it, a JSON operator), and
# IS NULL, which most rows of a nullable column usually match.
_OTHER_LOOKUPS = frozenset(
    {
        "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "regex", "iregex",
        "search", "date", "year", "month", "day", "week", "week_day", "iso_year", "quarter", "hour", "minute",
        "second", "time", "trigram_similar", "unaccent", "has_key", "has_keys", "has_any_keys", "contained_by",
        "overlap", "len", "iso_week_day", "lower", "upper", "isnull",
    }
)  # fmt: skip
_SQLALCHEMY_CONDITION_STEPS = frozenset({"where", "filter"})
_JSON_ACCESSORS = frozenset({"astext", "as_string", "as_integer", "as_float", "as_boolean", "as_numeric"})
_ORDER_WRAPPERS = frozenset({"desc", "asc", "nullsfirst", "nullslast", "nulls_first", "nulls_last"})
_ENDPOINT_WORDS = frozenset(
    {
        "views", "view", "api", "apis", "routes", "router", "routers", "endpoints", "resolvers", "handlers",
        "viewsets", "controllers", "blueprints", "resources", "schema", "schemas", "serializers", "mutations",
        "queries", "graphql", "rest", "web", "pages",
    }
)  # fmt: skip
_ENDPOINT_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_view", "action", "websocket", "login_required"}
)
_ENDPOINT_BASES = ("View", "ViewSet", "Resource", "Handler", "Mutation", "Consumer", "APIView")
_COMMAND_PARTS = re.compile(r"(^|/)(management/commands|commands|scripts|bin|cli)(/|\.py$)|(^|/)manage\.py$")
_TASK_PARTS = re.compile(r"(^|/)(tasks?|jobs?|workers?|celery|cron|periodic)(/|\.py$|_)")


def may_query(data: bytes) -> bool:
    """A cheap test on a module's bytes: it may hold a query chain."""
    return _MAY_QUERY.search(data) is not None


def advised_path(relative: str) -> bool:
    """Query sites of this file may ask for an index (not tests, migrations, admin, fixtures)."""
    normalized = relative.replace("\\", "/")
    return not is_test_module(normalized) and _NOT_ADVISED.search(normalized.removesuffix(".py")) is None


def query_sites(tree: ast.Module, relative: str, source: bytes | None = None) -> list[dict[str, Any]]:
    """Every query chain of the module, per model it names: {"model", "framework", "eq", "range", "order",
    "line", "function", "kind"}; each column a path (`["author", "name"]`).

    With the module's `source`, a statement whose text names no step a chain is recorded for is not walked."""
    collector = _Collector(_file_kind(relative), relative, _chain_lines(source) if source is not None else None)
    collector.visit_body(tree.body, "", "")
    return collector.sites


# Nodes that hold no call: not worth a visit.
_NO_CALLS = (ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop, ast.alias)


def _children(node: ast.AST) -> list[ast.AST]:
    """The node's children that may hold a call, in field order."""
    found: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            found.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _NO_CALLS))
        elif isinstance(value, ast.AST) and not isinstance(value, _NO_CALLS):
            found.append(value)
    return found


_LONE_CR = re.compile(rb"\r(?!\n)")


def _chain_lines(source: bytes) -> list[int] | None:
    """The numbers of the lines where `_MAY_CHAIN` matches, in order (one pass over the module's text); None for
    a text with old Mac line ends, whose lines Python counts differently."""
    if _LONE_CR.search(source):
        return None
    found: list[int] = []
    line, counted = 1, 0
    for match in _MAY_CHAIN.finditer(source):
        line += source.count(b"\n", counted, match.start())
        counted = match.start()
        if not found or found[-1] != line:
            found.append(line)
    return found


def _file_kind(relative: str) -> str:
    normalized = relative.replace("\\", "/").removesuffix(".py")
    if _COMMAND_PARTS.search(normalized):
        return "command"
    if _TASK_PARTS.search(normalized):
        return "task"
    words = set(re.split(r"[/_.\-]", normalized.lower()))
    return "endpoint" if words & _ENDPOINT_WORDS else "code"


class _Collector:
    def __init__(self, file_kind: str, path: str, chain_lines: list[int] | None = None) -> None:
        self.file_kind = file_kind
        self.path = path.replace("\\", "/")
        self.chain_lines = chain_lines  # the lines that name a step a site is recorded for, in order
        self.sites: list[dict[str, Any]] = []
        self.seen: set[int] = set()

    def visit_body(self, body: list[ast.stmt], function: str, kind: str) -> None:
        """Every node of the body in source order (a call before the calls inside it), with its function and kind:
        one loop over an explicit stack, since a module has tens of thousands of nodes and few are calls."""
        stack: list[tuple[ast.AST, str, str]] = [(stmt, function, kind) for stmt in reversed(body)]
        while stack:
            node, function, kind = stack.pop()
            if isinstance(node, ast.ClassDef):
                endpoint = any(name.endswith(_ENDPOINT_BASES) for name in base_names(node))
                inner = "endpoint" if endpoint else kind
                stack.extend((stmt, f"{node.name}.", inner) for stmt in reversed(node.body))
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorated = any(_decorator_name(d) in _ENDPOINT_DECORATORS for d in node.decorator_list)
                qualified = f"{function}{node.name}" if function.endswith(".") else node.name
                inner = "endpoint" if decorated else kind
                stack.extend((stmt, qualified, inner) for stmt in reversed(node.body))
                continue
            if isinstance(node, ast.stmt) and not self.may_hold_a_chain(node):
                continue
            if isinstance(node, ast.Call) and id(node) not in self.seen:
                self.chain(node, function.rstrip("."), kind or self.file_kind)
            stack.extend((child, function, kind) for child in reversed(_children(node)))

    def may_hold_a_chain(self, statement: ast.stmt) -> bool:
        if self.chain_lines is None:
            return True
        first = bisect.bisect_left(self.chain_lines, statement.lineno)
        return first < len(self.chain_lines) and self.chain_lines[first] <= (statement.end_lineno or statement.lineno)

    def chain(self, call: ast.Call, function: str, kind: str) -> None:
        root, steps = _unchain(call)
        for _, inner in steps:
            if inner is not None:
                self.seen.add(id(inner))
        names = [name for name, _ in steps]
        found: dict[str, dict[str, list[list[str]]]] = {}
        framework = ""
        if isinstance(root, ast.Call) and called_name(root) in {"get_object_or_404", "get_list_or_404"}:
            model = _model_name(root.args[0]) if root.args else None
            if model:
                framework = "django"
                _django_keywords(root.keywords, _site(found, model))
                root, steps = None, [(name, inner) for name, inner in steps]
        if isinstance(root, ast.Name) and _capitalised(root.id) and steps and steps[0][1] is None and not framework:
            if len(steps) > 1 and steps[0][0] != "query" and any(n in _DJANGO_QUERY_METHODS for n in names):
                framework = "django"
                site = _site(found, root.id)
                for name, inner in steps[1:]:
                    if inner is None:
                        break
                    if name in _DJANGO_CONDITION_STEPS:
                        _django_keywords(inner.keywords, site)
                        _django_q(inner.args, site)
                    elif name == "order_by":
                        site["order"].extend(_django_order(inner.args))
        if not framework and any(n in _SQLALCHEMY_STEPS for n in names) and _fresh(root, steps):
            framework = "sqlalchemy"
            entity = _entity(root, steps)
            if isinstance(root, ast.Call) and called_name(root) in _SQLALCHEMY_ROOTS:
                steps = [(called_name(root), root), *steps]
            for name, inner in steps:
                if inner is None:
                    continue
                if name in _SQLALCHEMY_CONDITION_STEPS:
                    for arg in inner.args:
                        _sqlalchemy_condition(arg, found)
                elif name == "filter_by" and entity and not inner.args:
                    site = _site(found, entity)
                    for keyword in inner.keywords:
                        if keyword.arg is not None:
                            is_null = isinstance(keyword.value, ast.Constant) and keyword.value.value is None
                            site["other" if is_null else "eq"].append([keyword.arg])
                elif name == "order_by":
                    for arg in inner.args:
                        column = _ordered(arg)
                        if column is not None:
                            _site(found, column[0])["order"].append(column[1])
        for model, site in found.items():
            if site["eq"] or site["range"] or site["order"]:
                self.sites.append(
                    {"model": model, "framework": framework, **site, "line": call.lineno, "function": function,
                     "kind": kind, "path": self.path}  # fmt: skip
                )


_DJANGO_QUERY_METHODS = frozenset({"filter", "get", "order_by", "get_or_create", "update_or_create", "exclude"})
_SQLALCHEMY_STEPS = frozenset({"where", "filter_by", "order_by", "filter"})
_SQLALCHEMY_ROOTS = frozenset({"select", "update", "delete"})


def _site(found: dict[str, dict[str, list[list[str]]]], model: str) -> dict[str, list[list[str]]]:
    return found.setdefault(model, {"eq": [], "range": [], "order": [], "other": []})


def _unchain(expr: ast.expr) -> tuple[ast.expr, list[tuple[str, ast.Call | None]]]:
    """`Book.objects.filter(a=1).order_by("b")` -> (Book, [("objects", None), ("filter", call), ("order_by", call)])."""
    steps: list[tuple[str, ast.Call | None]] = []
    while True:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            steps.append((expr.func.attr, expr))
            expr = expr.func.value
        elif isinstance(expr, ast.Attribute):
            steps.append((expr.attr, None))
            expr = expr.value
        else:
            return expr, steps[::-1]


def _decorator_name(decorator: ast.expr) -> str:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _capitalised(name: str) -> bool:
    return name[:1].isupper() and not name.isupper()


def _model_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name) and _capitalised(expr.id):
        return expr.id
    if isinstance(expr, ast.Attribute) and _capitalised(expr.attr):
        return expr.attr
    return None


def _django_keywords(keywords: list[ast.keyword], site: dict[str, list[list[str]]]) -> None:
    for keyword in keywords:
        if keyword.arg is None or keyword.arg in django.NOT_CONDITIONS:
            continue
        parts = keyword.arg.split("__")
        lookup = "exact"
        if len(parts) > 1 and parts[-1] in _EQUAL_LOOKUPS | _RANGE_LOOKUPS | _OTHER_LOOKUPS:
            lookup = parts.pop()
        if lookup in _EQUAL_LOOKUPS:
            site["eq"].append(parts)
        elif lookup in _RANGE_LOOKUPS:
            site["range"].append(parts)
        else:
            site["other"].append(parts)


def _django_q(args: list[ast.expr], site: dict[str, list[list[str]]]) -> None:
    """`Q(a=1)`, `Q(a=1) & Q(b=2)`: conditions every row meets; an `|` or `~` is left out."""
    for arg in args:
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.BitAnd):
            _django_q([arg.left, arg.right], site)
        elif isinstance(arg, ast.Call) and called_name(arg) == "Q" and not arg.args:
            _django_keywords(arg.keywords, site)
        else:
            site["other"].append([])


def _django_order(args: list[ast.expr]) -> list[list[str]]:
    found = []
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in {"?", ""}:
            found.append(arg.value.lstrip("-").split("__"))
        elif isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in _ORDER_WRAPPERS:
            inner = arg.func.value
            if isinstance(inner, ast.Call) and called_name(inner) == "F" and inner.args:
                text = inner.args[0]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    found.append(text.value.split("__"))
    return found


def _fresh(root: ast.expr, steps: list[tuple[str, ast.Call | None]]) -> bool:
    """The chain starts the query (`select(M)`, `session.query(M)`, `M.query`): a chain on a variable
    (`query = query.filter(...)`) adds to conditions made elsewhere, which the site cannot see."""
    if isinstance(root, ast.Call) and called_name(root) in _SQLALCHEMY_ROOTS:
        return True
    if isinstance(root, ast.Name) and _capitalised(root.id) and steps and steps[0] == ("query", None):
        return True
    return any(name in {"query", "select"} and inner is not None and inner.args for name, inner in steps)


def _entity(root: ast.expr, steps: list[tuple[str, ast.Call | None]]) -> str | None:
    """The model a `filter_by()` filters: `session.query(M)`, `select(M)`, Flask-SQLAlchemy's `M.query`."""
    if isinstance(root, ast.Name) and _capitalised(root.id) and steps and steps[0] == ("query", None):
        return root.id
    if isinstance(root, ast.Call) and called_name(root) == "select" and len(root.args) == 1:
        return _model_name(root.args[0])
    for name, inner in steps:
        if name == "query" and inner is not None and len(inner.args) == 1:
            return _model_name(inner.args[0])
    return None


def _column(expr: ast.expr) -> tuple[str, list[str]] | None:
    """`Order.status` -> ("Order", ["status"]); `Order.data["plan"].astext` -> ("Order", ["data", "plan"])."""
    keys: list[str] = []
    node = expr
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _JSON_ACCESSORS:
            node = node.func.value
        elif isinstance(node, ast.Attribute) and node.attr in _JSON_ACCESSORS:
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if not (isinstance(key, ast.Constant) and isinstance(key.value, (str, int))):
                return None
            keys.insert(0, str(key.value))
            node = node.value
        else:
            break
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _capitalised(node.value.id):
        if node.attr.isupper():
            return None  # `Status.OPEN`: an enum member
        return node.value.id, [node.attr, *keys]
    return None


def _sqlalchemy_condition(expr: ast.expr, found: dict[str, dict[str, list[list[str]]]]) -> None:
    if isinstance(expr, ast.Call) and called_name(expr) == "and_":
        for arg in expr.args:
            _sqlalchemy_condition(arg, found)
        return
    if isinstance(expr, (ast.BoolOp, ast.UnaryOp)) or (
        isinstance(expr, ast.Call) and called_name(expr) in {"or_", "not_"}
    ):
        _site_of_any(expr, found)
        return
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        left, right, op = expr.left, expr.comparators[0], expr.ops[0]
        column = _column(left)
        if column is None or _column(right) is not None:
            return  # a join condition: a foreign key's business (ORM301)
        if isinstance(right, ast.Constant) and right.value is None:
            _site(found, column[0])["other"].append(column[1])  # IS NULL: most rows of a nullable column
        elif isinstance(op, (ast.Eq, ast.In)):  # `is None` is Python's identity test, no SQL at all
            _site(found, column[0])["eq"].append(column[1])
        elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
            _site(found, column[0])["range"].append(column[1])
        return
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        column = _column(expr.func.value)
        if column is None:
            return
        if expr.func.attr == "in_":
            _site(found, column[0])["eq"].append(column[1])
        elif expr.func.attr == "between":
            _site(found, column[0])["range"].append(column[1])
        else:
            _site(found, column[0])["other"].append(column[1])
        return
    column = _column(expr)
    if column is not None:  # `where(User.active)`
        _site(found, column[0])["eq"].append(column[1])


def _site_of_any(expr: ast.expr, found: dict[str, dict[str, list[list[str]]]]) -> None:
    """An `or_`/`not_` condition: no single index serves it, yet the rows are narrowed by something."""
    for node in ast.walk(expr):
        column = _column(node) if isinstance(node, ast.expr) else None
        if column is not None:
            _site(found, column[0])["other"].append(column[1])
            return


def _ordered(expr: ast.expr) -> tuple[str, list[str]] | None:
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in _ORDER_WRAPPERS and not expr.args:
            return _column(expr.func.value)
        if called_name(expr) in _ORDER_WRAPPERS and len(expr.args) == 1:
            return _column(expr.args[0])
        return None
    return _column(expr)
