"""Connection settings: a Django `DATABASES` entry without `CONN_MAX_AGE` (connection-per-request), a SQLAlchemy
engine or Flask-SQLAlchemy configuration for a server database without `pool_pre_ping`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from ...catalogue.performance import CONNECTION_PER_REQUEST, ENGINE_WITHOUT_POOL_PRE_PING
from ..queries import call_name
from ..registry import Report, check
from ..scope import ModuleIndex, Scope
from ...frameworks.sqlalchemy import snake_case

_FIX = 'set "CONN_MAX_AGE": 60 (and "CONN_HEALTH_CHECKS": True) in the entry'
_DATABASE_URL_CALLS = frozenset({"config", "parse"})  # dj_database_url.config(conn_max_age=...)
# Settings for development, tests and CI: a connection per request costs nothing there.
_NOT_PRODUCTION = re.compile(
    r"(^|[_\-/.])(dev|devel|development|local|test|tests|testing|ci|github|travis)([_\-/.]|$)|(^|/)dev[a-z]*/"
)


@check(CONNECTION_PER_REQUEST, runs_on_every_module=True)
def connection_per_request(index: ModuleIndex) -> Iterator[Report]:
    """connection-per-request: `DATABASES = {"default": {...}}` with no `CONN_MAX_AGE`."""
    if _NOT_PRODUCTION.search(index.filename.replace("\\", "/").lower().removesuffix(".py")):
        return
    statements = index.tree.body
    databases = [s.value for s in statements if isinstance(s, ast.Assign) and _assigns(s, "DATABASES")]
    if not databases or _set_elsewhere(index.tree) or _replaced_by_environments(index.filename):
        return
    for value in databases:
        if not isinstance(value, ast.Dict):
            continue
        for key, entry in zip(value.keys, value.values):
            alias = key.value if isinstance(key, ast.Constant) else "entry"
            if _without_persistent_connections(entry):
                yield Report(CONNECTION_PER_REQUEST, entry, {"alias": repr(alias), "fix": _FIX}, framework="django")


_ASSIGNS_DATABASES = re.compile(rb"^DATABASES\s*=", re.MULTILINE)
_FIRST_INCLUDED = re.compile(rb"[\'\"]([\w\-]+)\.py[\'\"]")


def _replaced_by_environments(filename: str) -> bool:
    """A base settings module whose `DATABASES` the environment modules beside it replace: a module that assigns
    `DATABASES` after `from .core import *`, or django-split-settings including `core.py` first and the
    environment's module after it. No deployment runs the base's entry as it is written."""
    path = Path(filename)
    star_import = re.compile(rb"from\s+[\w.]*\b" + re.escape(path.stem.encode()) + rb"\s+import\s+\*")
    try:
        texts = {p.name: p.read_bytes() for p in path.parent.glob("*.py") if p.name != path.name}
    except OSError:
        return False
    replacing = [text for name, text in texts.items() if name != "__init__.py" and _ASSIGNS_DATABASES.search(text)]
    if any(star_import.search(text) for text in replacing):
        return True
    first = _FIRST_INCLUDED.search(texts.get("__init__.py", b""))
    return bool(replacing) and first is not None and first.group(1).decode() == path.stem


def _assigns(statement: ast.Assign, name: str) -> bool:
    return any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)


def _set_elsewhere(tree: ast.Module) -> bool:
    """`CONN_MAX_AGE` named outside the entries of a `DATABASES` literal: `DATABASES["default"]["CONN_MAX_AGE"] = 60`,
    `CONN_MAX_AGE = env.int(...)` merged in later. What the module does with it there is not judged."""
    entry_keys = {
        id(key)
        for s in tree.body
        if isinstance(s, ast.Assign) and _assigns(s, "DATABASES") and isinstance(s.value, ast.Dict)
        for entry in s.value.values
        if isinstance(entry, ast.Dict)
        for key in entry.keys
    }
    return any(
        (isinstance(n, ast.Constant) and n.value == "CONN_MAX_AGE" and id(n) not in entry_keys)
        or (isinstance(n, ast.Name) and n.id == "CONN_MAX_AGE")
        for n in ast.walk(tree)
    )


def _without_persistent_connections(entry: ast.expr) -> bool:
    if isinstance(entry, ast.Call):  # dj_database_url.config(default=..., conn_max_age=600)
        if call_name(entry) not in _DATABASE_URL_CALLS:
            return False
        age = next((k.value for k in entry.keywords if k.arg == "conn_max_age"), None)
        return age is None or (isinstance(age, ast.Constant) and age.value == 0)
    if not isinstance(entry, ast.Dict) or any(k is None for k in entry.keys):
        return False  # built from parts (`**base`): not all of it is visible
    settings = {k.value: v for k, v in zip(entry.keys, entry.values) if isinstance(k, ast.Constant)}
    engine = settings.get("ENGINE")
    if not (isinstance(engine, ast.Constant) and isinstance(engine.value, str)) or "sqlite" in engine.value:
        return False
    age = settings.get("CONN_MAX_AGE")
    return age is None or (isinstance(age, ast.Constant) and age.value == 0)


# -- pooled connections without a liveness test ---------------------------------------------------------------
_ENGINE_CALLS = frozenset({"create_engine", "create_async_engine"})
_SERVER_SCHEMES = ("postgres", "mysql", "mariadb", "oracle", "mssql", "cockroachdb", "redshift")
# Pools that keep no connection across checkouts (or one they own): nothing goes stale between requests.
_NOT_POOLING = frozenset({"NullPool", "StaticPool", "SingletonThreadPool", "AssertionPool", "AsyncAdaptedNullPool"})
# Keywords that show disconnects were thought about: a pessimistic test, a recycle age, a pool of its own.
_LIVENESS_KEYWORDS = frozenset({"pool_pre_ping", "pool_recycle", "pool", "creator", "async_creator"})
_URI_SETTING = "SQLALCHEMY_DATABASE_URI"
_OPTIONS_SETTING = "SQLALCHEMY_ENGINE_OPTIONS"
# Short-lived processes (migrations, scripts) hold no pooled connection long enough to go stale.
_SHORT_LIVED = re.compile(r"(^|/)(alembic|migrations|versions|scripts?|bin|tools|conftest)(/|\.py$|$)|(^|/)env\.py$")


@check(ENGINE_WITHOUT_POOL_PRE_PING, runs_on_tests=False, runs_on_every_module=True)
def engine_without_pool_pre_ping(index: ModuleIndex) -> Iterator[Report]:
    """engine-without-pool-pre-ping: `create_engine("postgresql://...")` / `SQLALCHEMY_DATABASE_URI` without it."""
    path = index.filename.replace("\\", "/").lower().removesuffix(".py")
    if _NOT_PRODUCTION.search(path) or _SHORT_LIVED.search(path):
        return
    reports = [
        Report(
            ENGINE_WITHOUT_POOL_PRE_PING,
            site.node,
            {"engine": f"{call_name(site.node)}(...)", "fix": f"pass pool_pre_ping=True to {call_name(site.node)}()"},
            framework="sqlalchemy",
            operation=call_name(site.node),
        )
        for scope in index.scopes
        for site in scope.calls
        if call_name(site.node) in _ENGINE_CALLS
        and _from_sqlalchemy(site.node, index)
        and _pools_to_server(site.node, scope)
    ]
    reports += _flask_settings(index)
    if reports and not any(_names_pre_ping(node) for node in ast.walk(index.tree)):
        yield from reports  # named anywhere else (options merged in later), its author knows


def _names_pre_ping(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and node.value == "pool_pre_ping") or (
        isinstance(node, ast.keyword) and node.arg == "pool_pre_ping"
    )


def _from_sqlalchemy(call: ast.Call, index: ModuleIndex) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return index.imports.get(func.id, "").startswith("sqlalchemy") or index.imports.get(func.id, "") in {
            "sqlmodel.create_engine"
        }
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return index.imports.get(func.value.id, "").split(".")[0] in {"sqlalchemy", "sqlmodel"}
    return False


def _pools_to_server(call: ast.Call, scope: Scope) -> bool:
    """A pooling engine for a server database, or for a URL the module does not show."""
    keywords = {k.arg for k in call.keywords}
    if None in keywords or keywords & _LIVENESS_KEYWORDS:
        return False  # `**options` may carry it
    poolclass = next((k.value for k in call.keywords if k.arg == "poolclass"), None)
    if poolclass is not None and _last_name(poolclass) in _NOT_POOLING:
        return False
    url = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "url"), None)
    return url is not None and _server_url(url, scope) is not False


def _server_url(url: ast.expr, scope: Scope | None) -> bool | None:
    """True for a server database's URL, False for SQLite and other embedded or unknown schemes, None unseen."""
    if isinstance(url, ast.Name) and scope is not None:
        values = _bound_once(url.id, scope)
        return _server_url(values, None) if values is not None else None
    text = _leading_text(url)
    if text is None:
        return None
    scheme = text.split(":", 1)[0].split("+", 1)[0].lower() if ":" in text else ""
    if not scheme:
        return None
    return scheme.startswith(_SERVER_SCHEMES)


def _bound_once(name: str, scope: Scope) -> ast.expr | None:
    current: Scope | None = scope
    while current is not None:
        values = current.values_of(name)
        if values is not None:
            return values[0] if len(values) == 1 else None
        if name in current.params:
            return None
        current = current.parent
    return None


def _leading_text(url: ast.expr) -> str | None:
    """The visible start of a URL: a string, an f-string's first part, `URL.create("postgresql", ...)`,
    or the fallback of `os.environ.get("DATABASE_URL", "sqlite://")` (a fallback to SQLite is a local default)."""
    if isinstance(url, ast.Constant) and isinstance(url.value, str):
        return url.value
    if isinstance(url, ast.JoinedStr) and url.values and isinstance(url.values[0], ast.Constant):
        return str(url.values[0].value)
    if isinstance(url, ast.BinOp) and isinstance(url.op, ast.Add):
        return _leading_text(url.left)
    if isinstance(url, ast.Call):
        name = call_name(url)
        if name == "create" and url.args:
            driver = _leading_text(url.args[0])
            return f"{driver}://" if driver else None
        if name in {"get", "getenv"} and len(url.args) == 2:
            return _leading_text(url.args[1])
    if isinstance(url, ast.BoolOp) and isinstance(url.op, ast.Or):  # `os.environ.get(...) or "sqlite://"`
        return _leading_text(url.values[-1])
    return None


def _last_name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""


def _flask_settings(index: ModuleIndex) -> list[Report]:
    """A Flask-SQLAlchemy configuration (module or config class) for a server database without it."""
    holders: list[tuple[str, list[ast.stmt]]] = [("", index.tree.body)]
    holders += [
        (s.name, s.body)
        for s in index.tree.body
        if isinstance(s, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))  # the module-wide run has no walk
    ]
    found = []
    for name, body in holders:
        if name and _NOT_PRODUCTION.search(snake_case(name)):
            continue  # DevelopmentConfig, TestingConfig
        settings = {}
        for stmt in body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                key = target.id if isinstance(target, ast.Name) else _config_key(target)
                if key in {_URI_SETTING, _OPTIONS_SETTING}:
                    settings[key] = stmt
        uri = settings.get(_URI_SETTING)
        if uri is None or _server_url(uri.value, None) is False:
            continue
        options = settings.get(_OPTIONS_SETTING)
        if options is not None and not isinstance(options.value, ast.Dict):
            continue  # built elsewhere
        at = options if options is not None else uri
        found.append(
            Report(
                ENGINE_WITHOUT_POOL_PRE_PING,
                at,
                {"engine": _OPTIONS_SETTING, "fix": f'add "pool_pre_ping": True to {_OPTIONS_SETTING}'},
                framework="flask-sqlalchemy",
            )
        )
    return found


def _config_key(target: ast.expr) -> str | None:
    """`app.config["SQLALCHEMY_DATABASE_URI"]`."""
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        return str(target.slice.value)
    return None
