"""connection-per-request: a Django `DATABASES` entry for a server database without `CONN_MAX_AGE`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ...catalogue.performance import CONNECTION_PER_REQUEST
from ..queries import call_name
from ..registry import Report, check
from ..scope import ModuleIndex

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
    if not databases or _set_elsewhere(index.tree):
        return
    for value in databases:
        if not isinstance(value, ast.Dict):
            continue
        for key, entry in zip(value.keys, value.values):
            alias = key.value if isinstance(key, ast.Constant) else "entry"
            if _without_persistent_connections(entry):
                yield Report(CONNECTION_PER_REQUEST, entry, {"alias": repr(alias), "fix": _FIX})


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
