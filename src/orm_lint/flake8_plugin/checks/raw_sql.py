"""sql-built-from-strings: SQL text formatted from values that can come from outside.

Injection needs a value from outside. Request data, and anything derived from it, is
never trusted, whatever its name. Another formatted value is trusted when it is a
constant, an `UPPER_CASE` name, a number (`int()`, `len()`), a placeholder list, a
quoted identifier, the ORM's own table name or compiled SQL, or a local built only
from such values; anything else (a parameter, a call result) is not. The finding's
severity follows the value's origin: request data critical, a caller's value high, a
database value medium.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ...catalogue.security import SQL_BUILT_FROM_STRINGS
from ...frameworks import django
from ..queries import call_name, dotted_name, unchain
from ..registry import Report, check
from ..render import source
from ..provenance import CONFIGURATION_ROOTS, STRING_METHODS, Origin, from_request, is_validated_scalar, origin
from ..scope import CONSTANT_NAME, ModuleIndex, Scope

_EXECUTE_METHODS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql"})
_SQL_KEYWORDS = frozenset({"sql", "statement", "query", "operation", "raw_query"})
_EXTRA_KEYWORDS = frozenset({"where", "select", "tables", "order_by"})
_TEXT_OWNERS = frozenset({"db", "sa", "sqlalchemy", "sqlmodel", "sql", "expression"})
_NUMERIC_CALLS = frozenset(
    {
        "int",
        "float",
        "len",
        "bool",
        "abs",
        "round",
        "range",
        "min",
        "max",
        "sum",
        "ord",
        "Decimal",
    }
)
_SQL_BUILDER_CALLS = frozenset({"sql_with_params", "compile", "as_sql", "mogrify", "literal_column"})
_TRUSTED_ATTRIBUTES = frozenset(
    {
        "_meta",
        "db_table",
        "__tablename__",
        "__table__",
        "table_name",
        "tablename",
        "model_name",
        "app_label",
        "pk",
        "id",
    }
)
_MAX_DEPTH = 8
# Names that hold SQL text already (a whole statement or a fragment): a wrapper that adds
# `EXPLAIN` or a sub-select around it is not where outside values enter.
_SQL_HOLDER = re.compile(r"(^|_)(sql|query|stmt|statement|subquery|clause)$")
# Roots of configuration objects: not values that come from a request.
_CONFIG_ROOTS = frozenset({"self", "cls", "settings", "config", "conf", "options", "app"})
# Statements whose variable parts are identifiers, which no driver can bind as parameters.
_DDL = re.compile(
    r"^\s*(create|drop|alter|truncate|grant|revoke|use|kill|attach|detach|vacuum|analyze|reindex|"
    r"set|reset|comment|cluster|lock|savepoint|release|pragma|show|describe)\b",
    re.IGNORECASE,
)
_ORIGIN_WORDS = {
    Origin.REQUEST: "request data",
    Origin.CALLER: "a value the caller passes in",
    Origin.STORED: "a value read from the database",
    Origin.CONFIGURED: "a configuration value",
    Origin.PROGRAM: "",
}
# Levels below critical: request data is critical, a caller's value high, stored or configured values medium.
_LOWERED_BY = {Origin.REQUEST: 0, Origin.CALLER: 1, Origin.STORED: 2, Origin.CONFIGURED: 2, Origin.PROGRAM: 2}
_RESULT_METHODS = frozenset({"fetchall", "fetchone", "fetchmany", "all", "scalars", "mappings", "execute"})
# Calls whose result comes from outside even when their arguments are constants.
_READS_FROM_OUTSIDE = _RESULT_METHODS | frozenset(
    {"input", "read", "readline", "readlines", "recv", "get", "getenv", "fetchval", "fetchrow", "first", "one"}
)


@dataclass(frozen=True)
class SqlContext:
    index: ModuleIndex
    scope: Scope
    # Look for request data only: every other value counts as trusted.
    request_only: bool = False
    # The object that runs the SQL (`db` of `db.execute(...)`): its own attributes are its dialect's text.
    connection: str | None = None


def _sql_arguments(call: ast.Call, index: ModuleIndex) -> tuple[str, list[ast.expr]] | None:
    """The sink's name and the arguments that must hold SQL text."""
    func = call.func
    name = call_name(call)
    first = [call.args[0]] if call.args else [k.value for k in call.keywords if k.arg in _SQL_KEYWORDS]
    if isinstance(func, ast.Attribute):
        owner = func.value
        if name in _EXECUTE_METHODS:
            return name, first
        if name == "raw" and any(step.name in django.MANAGER_ATTRIBUTES for step in unchain(owner)[1]):
            return name, first
        if name == "extra":
            values: list[ast.expr] = []
            for keyword in call.keywords:
                if keyword.arg in _EXTRA_KEYWORDS:
                    value = keyword.value
                    if isinstance(value, (ast.List, ast.Tuple)):
                        values.extend(value.elts)
                    elif isinstance(value, ast.Dict):
                        values.extend(value.values)
                    else:
                        values.append(value)
            return name, values
        if name == "text" and isinstance(owner, ast.Name) and owner.id in _TEXT_OWNERS:
            return name, first
        if name == "RawSQL":
            return name, first
        return None
    if name == "RawSQL":
        return name, first
    if name == "text" and index.imports.get("text", "").startswith(("sqlalchemy", "sqlmodel")):
        return name, first
    return None


def _leading_text(expr: ast.expr, ctx: SqlContext, depth: int = 0) -> str:
    """The constant text a built string starts with, as far as syntax shows it."""
    if depth > _MAX_DEPTH:
        return ""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr) and expr.values:
        return _leading_text(expr.values[0], ctx, depth + 1)
    if isinstance(expr, ast.BinOp):
        return _leading_text(expr.left, ctx, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "format":
        return _leading_text(expr.func.value, ctx, depth + 1)
    if isinstance(expr, ast.Name):
        values = ctx.scope.assignments.get(expr.id) or []
        return _leading_text(values[0], ctx, depth + 1) if len(values) == 1 else ""
    return ""


def is_ddl(expr: ast.expr, ctx: SqlContext) -> bool:
    """Schema and administration statements: their variable parts are identifiers, not values."""
    return bool(_DDL.match(_leading_text(expr, ctx)))


def _is_string(expr: ast.expr) -> bool:
    return isinstance(expr, ast.JoinedStr) or (isinstance(expr, ast.Constant) and isinstance(expr.value, str))


def built_from_outside(expr: ast.expr, ctx: SqlContext, depth: int = 0) -> tuple[str, ast.expr] | None:
    """(how, value) when the SQL text is built with a value that is not trusted."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.JoinedStr):
        for part in expr.values:
            if isinstance(part, ast.FormattedValue) and not trusted(part.value, ctx, depth + 1):
                return "an f-string", part.value
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod) and _stringy(expr.left, ctx, depth):
        numeric = _numeric_items(expr)
        right = expr.right
        items = right.elts if isinstance(right, ast.Tuple) else right.values if isinstance(right, ast.Dict) else [right]
        for position, item in enumerate(items):
            if position not in numeric and not trusted(item, ctx, depth + 1):
                return "% formatting", item
        return built_from_outside(expr.left, ctx, depth + 1)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        operands = _flatten_add(expr)
        if not any(_stringy(o, ctx, depth) for o in operands):
            return None
        for operand in operands:
            inner = built_from_outside(operand, ctx, depth + 1)
            if inner is not None:
                return inner
            if not _is_string(operand) and not trusted(operand, ctx, depth + 1):
                return "concatenation", operand
        return None
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        method, owner = expr.func.attr, expr.func.value
        if method == "format" and _stringy(owner, ctx, depth):
            for arg in [*expr.args, *(k.value for k in expr.keywords)]:
                if not trusted(arg, ctx, depth + 1):
                    return ".format()", arg
            return built_from_outside(owner, ctx, depth + 1)
        if method == "join" and _is_string(owner) and len(expr.args) == 1:
            return _joined_from_outside(expr.args[0], ctx, depth + 1)
        return None
    if isinstance(expr, ast.Name):
        for value in _bindings(expr.id, ctx):
            inner = built_from_outside(value, ctx, depth + 1)
            if inner is not None:
                return inner
        return None
    if isinstance(expr, ast.IfExp):
        return built_from_outside(expr.body, ctx, depth + 1) or built_from_outside(expr.orelse, ctx, depth + 1)
    return None


_CONVERSION = re.compile(r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[a-zA-Z%])")


_BEFORE_IDENTIFIER = re.compile(r"\b(from|into|update|join|table|schema|exists)\s+$", re.IGNORECASE)


def _in_identifier_place(sql: ast.expr, value: ast.expr) -> bool:
    """`f"DELETE FROM {prefix}accounts"`: the value is glued to a name, or follows FROM/INTO/UPDATE/JOIN/TABLE."""
    if not isinstance(sql, ast.JoinedStr):
        return False
    parts = sql.values
    for i, part in enumerate(parts):
        if isinstance(part, ast.FormattedValue) and part.value is value:
            before = parts[i - 1] if i else None
            after = parts[i + 1] if i + 1 < len(parts) else None
            glued = (
                isinstance(after, ast.Constant)
                and str(after.value)[:1].isalnum()
                or (isinstance(after, ast.Constant) and str(after.value)[:1] == "_")
            )
            follows = isinstance(before, ast.Constant) and _BEFORE_IDENTIFIER.search(str(before.value)) is not None
            return bool(glued or follows)
    return False


def _numeric_items(expr: ast.BinOp) -> set[int]:
    """Positions of the `%` operands a numeric conversion (`%d`, `%i`, `%f` ...) formats: a number cannot carry SQL."""
    left = expr.left
    if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
        return set()
    conversions = [m for m in _CONVERSION.finditer(left.value) if m["type"] != "%"]
    right = expr.right
    if isinstance(right, ast.Dict):
        numeric_keys = {m["key"] for m in conversions if m["type"] in "diouxXeEfFgG"}
        return {i for i, key in enumerate(right.keys) if isinstance(key, ast.Constant) and key.value in numeric_keys}
    return {i for i, m in enumerate(conversions) if m["type"] in "diouxXeEfFgG"}


def _joined_from_outside(items: ast.expr, ctx: SqlContext, depth: int) -> tuple[str, ast.expr] | None:
    elements: list[ast.expr]
    if isinstance(items, (ast.List, ast.Tuple, ast.Set)):
        elements = list(items.elts)
    elif isinstance(items, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        elements = [items.elt]
    elif isinstance(items, ast.Name):
        elements = _bindings(items.id, ctx)
    else:
        return None if trusted(items, ctx, depth) else ("join", items)
    for element in elements:
        inner = built_from_outside(element, ctx, depth + 1)
        if inner is not None:
            return inner
        if not _is_string(element) and not trusted(element, ctx, depth + 1):
            return "join", element
    return None


def _flatten_add(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _flatten_add(expr.left) + _flatten_add(expr.right)
    return [expr]


def _stringy(expr: ast.expr, ctx: SqlContext, depth: int) -> bool:
    """A string literal, or a local only ever bound to strings being built."""
    if _is_string(expr):
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
        return _stringy(expr.left, ctx, depth + 1)
    if isinstance(expr, ast.Name) and depth < _MAX_DEPTH:
        values = ctx.scope.assignments.get(expr.id) or []
        return bool(values) and all(_stringy(v, ctx, depth + 1) for v in values)
    return False


def _bindings(name: str, ctx: SqlContext) -> list[ast.expr]:
    scope = ctx.scope
    return [*scope.assignments.get(name, []), *scope.contributions.get(name, [])]


def trusted(expr: ast.expr, ctx: SqlContext, depth: int = 0) -> bool:
    """True when the value cannot carry text from outside the program."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, ast.Name) and expr.id in _validated_names(ctx):
        return True  # checked against a whitelist or a validator first, whatever its origin
    if from_request(expr, ctx.index, ctx.scope):
        return False
    if ctx.request_only:
        return True
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.JoinedStr):
        return all(trusted(p.value, ctx, depth + 1) for p in expr.values if isinstance(p, ast.FormattedValue))
    if isinstance(expr, ast.Name):
        return _trusted_name(expr.id, ctx, depth)
    if isinstance(expr, ast.Attribute):
        name = dotted_name(expr) or ""
        parts = name.split(".")
        return (
            bool(CONSTANT_NAME.match(expr.attr))
            or _enum_member(parts)
            or _module_level(parts[0], ctx)
            or parts[0] in _CONFIG_ROOTS
            or any(part in _TRUSTED_ATTRIBUTES for part in parts)
            or bool(_SQL_HOLDER.search(expr.attr.lower()))
            or (len(parts) == 2 and parts[0] == ctx.connection)  # `db.timestamp_now` inside `db.execute(...)`
        )
    if isinstance(expr, ast.Subscript):
        return trusted(expr.value, ctx, depth + 1)
    if isinstance(expr, ast.Call):
        return _trusted_call(expr, ctx, depth)
    if isinstance(expr, ast.BinOp):
        return trusted(expr.left, ctx, depth + 1) and trusted(expr.right, ctx, depth + 1)
    if isinstance(expr, ast.UnaryOp):
        return trusted(expr.operand, ctx, depth + 1)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(trusted(e, ctx, depth + 1) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(trusted(v, ctx, depth + 1) for v in expr.values)
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return trusted(expr.elt, ctx, depth + 1)
    if isinstance(expr, ast.IfExp):
        return trusted(expr.body, ctx, depth + 1) and trusted(expr.orelse, ctx, depth + 1)
    return False


def _module_level(name: str, ctx: SqlContext) -> bool:
    """`db.timestamp_now`, `schema.TABLE`: an attribute of a module, or of an object the module itself binds;
    not the environment or the process (`os.environ`, `sys.argv`): those hold what the deployment or a user set."""
    if name in CONFIGURATION_ROOTS or name == "sys":
        return False
    scope: Scope | None = ctx.scope
    while scope is not None and scope is not ctx.index.module:
        if name in scope.params or name in scope.assignments or name in scope.loop_bindings:
            return False
        scope = scope.parent
    return name in ctx.index.imports or name in ctx.index.module.assignments


# Checks that let only known-safe text through: `_valid_sql_name(f)`, `is_safe_identifier(col)`.
_VALIDATOR = re.compile(r"valid|safe|allowed|whitelist|sanitiz|isidentifier|is_identifier", re.IGNORECASE)


def _validated_names(ctx: SqlContext) -> set[str]:
    """Names an `if` of this function checks with a validator or against a constant collection (`if f not in
    SORTABLE`), and the collections whose every item a loop checks that way (`for f in group_by: if not valid(f)`)."""
    memo = ctx.index.memo.setdefault("validated_names", {})
    key = id(ctx.scope)
    if key in memo:  # type: ignore[operator]
        return memo[key]  # type: ignore[index, no-any-return]
    names: set[str] = set()
    for node in ast.walk(ctx.scope.node) if ctx.scope.is_function else ():
        if not isinstance(node, (ast.If, ast.Assert)):
            continue
        for test in ast.walk(node.test):
            if isinstance(test, ast.Call) and _VALIDATOR.search(call_name(test) or ""):
                names |= {a.id for a in test.args if isinstance(a, ast.Name)}
            elif isinstance(test, ast.Compare) and isinstance(test.ops[0], (ast.In, ast.NotIn)):
                if _constant_collection(test.comparators[0], ctx) and isinstance(test.left, ast.Name):
                    names.add(test.left.id)
    for name in list(names):
        for frame in ctx.scope.loop_bindings.get(name, []):
            if isinstance(frame.iter, ast.Name):
                names.add(frame.iter.id)
    memo[key] = names  # type: ignore[index]
    return names


def _constant_collection(expr: ast.expr, ctx: SqlContext) -> bool:
    """`SORTABLE`, `Book.ORDERINGS`, `("asc", "desc")`: a collection the program writes itself."""
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(isinstance(e, ast.Constant) for e in expr.elts)
    if isinstance(expr, ast.Name):
        return bool(CONSTANT_NAME.match(expr.id)) or ctx.index.module_constant(expr.id)
    return isinstance(expr, ast.Attribute) and bool(CONSTANT_NAME.match(expr.attr))


def _enum_member(parts: list[str]) -> bool:
    """`Side.AFF.value`, `models.Status.OPEN`: a member of a class the program declares."""
    classes = [i for i, part in enumerate(parts) if part[:1].isupper() and not part.isupper()]
    return bool(classes) and any(CONSTANT_NAME.match(part) for part in parts[classes[0] + 1 :])


def _trusted_name(name: str, ctx: SqlContext, depth: int) -> bool:
    if CONSTANT_NAME.match(name) or ctx.index.module_constant(name) or _SQL_HOLDER.search(name.lower()):
        return True
    scope = ctx.scope
    if name in scope.params:
        return is_validated_scalar(name, ctx.index, scope)
    frames = scope.loop_bindings.get(name)
    if frames:
        return all(f.iter is not None and (trusted(f.iter, ctx, depth + 1) or _database_rows(f.iter)) for f in frames)
    values = _bindings(name, ctx)
    if values:
        return all(trusted(v, ctx, depth + 1) for v in values)
    if scope is not ctx.index.module and name in ctx.index.module.assignments:
        return trusted(
            ast.Name(id=name),
            SqlContext(ctx.index, ctx.index.module, ctx.request_only),
            depth + 1,
        )
    return name not in _outer_params(scope)


def _database_rows(expr: ast.expr) -> bool:
    """Rows read back from the database (`cursor.fetchall()`, `conn.execute(...)`)."""
    return isinstance(expr, ast.Call) and call_name(expr) in _RESULT_METHODS


def _outer_params(scope: Scope) -> set[str]:
    names: set[str] = set()
    parent = scope.parent
    while parent is not None:
        names |= parent.params
        parent = parent.parent
    return names


def _trusted_call(call: ast.Call, ctx: SqlContext, depth: int) -> bool:
    name = call_name(call) or ""
    lowered = name.lower()
    if name in _NUMERIC_CALLS or name in _SQL_BUILDER_CALLS:
        return True
    if lowered.startswith(("quote", "escape", "sanitize")):
        return True
    if name in {"str", "repr"} and len(call.args) == 1:
        arg = call.args[0]
        if isinstance(arg, ast.Attribute) and arg.attr == "query":
            return True  # str(qs.query): the ORM's own SQL
        return trusted(arg, ctx, depth + 1)
    if isinstance(call.func, ast.Attribute):
        owner = call.func.value
        if name == "format" or name in STRING_METHODS:
            args = [*call.args, *(k.value for k in call.keywords)]
            return trusted(owner, ctx, depth + 1) and all(trusted(a, ctx, depth + 1) for a in args)
        if name == "join" and len(call.args) == 1:
            return trusted(owner, ctx, depth + 1) and trusted(call.args[0], ctx, depth + 1)
    # `uuid4()`, `db.timestamp_placeholder("since")`: computed by the program from constants alone
    arguments = [*call.args, *(k.value for k in call.keywords)]
    return name not in _READS_FROM_OUTSIDE and all(isinstance(a, ast.Constant) for a in arguments)


@check(SQL_BUILT_FROM_STRINGS, runs_on_migrations=True)
def sql_built_from_strings(index: ModuleIndex) -> Iterator[Report]:
    """sql-built-from-strings: formatted SQL text reaches an execution API."""
    for scope in index.scopes:
        ctx = SqlContext(index, scope)
        for site in scope.calls:
            found = _sql_arguments(site.node, index)
            if found is None:
                continue
            sink, arguments = found
            receiver = site.node.func.value if isinstance(site.node.func, ast.Attribute) else None
            ctx = replace(ctx, connection=receiver.id if isinstance(receiver, ast.Name) else None)
            for argument in arguments:
                built = built_from_outside(argument, SqlContext(index, scope, request_only=True))
                found_origin = Origin.REQUEST
                if built is None and not is_ddl(argument, ctx):
                    built = built_from_outside(argument, ctx)
                    found_origin = origin(built[1], index, scope) if built is not None else Origin.PROGRAM
                if built is not None and found_origin is Origin.STORED and index.is_migration:
                    built = None  # a migration reformatting its own rows: the deployer's data, not an attacker's
                if built is not None and found_origin is Origin.CONFIGURED and _in_identifier_place(argument, built[1]):
                    built = None  # a configured table prefix or schema: an identifier, which no driver can bind
                if built is not None:
                    how, value = built
                    yield Report(
                        SQL_BUILT_FROM_STRINGS,
                        site.node,
                        {
                            "sink": f"{sink}()",
                            "how": how,
                            "value": source(value),
                            "origin": _ORIGIN_WORDS[found_origin],
                        },
                        lowered_by=_LOWERED_BY[found_origin],
                        operation=sink,
                    )
                    break
