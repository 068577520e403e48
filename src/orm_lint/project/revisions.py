"""Indexes and unique constraints that exist only in Alembic revisions, by table.

Many SQLAlchemy projects add a unique constraint or an index in a revision and never declare it on
the model. The constraint exists in the database all the same: a lookup by those columns is unique,
a query by them is served. Only `upgrade()` is read (a `downgrade()` restores what it undid); a
later revision that drops one again is not followed, which can only keep a finding silent.
"""

from __future__ import annotations

import ast
from typing import Any

from .statements import called_name

_WORDS = (b"create_unique_constraint", b"create_index", b"create_table", b"create_primary_key")


def may_add_indexes(data: bytes) -> bool:
    """A cheap test on a revision's bytes."""
    return any(word in data for word in _WORDS)


def revision_indexes(tree: ast.Module) -> dict[str, list[dict[str, Any]]]:
    """{"users": [{"columns": ["email"], "unique": True}, ...]} for what `upgrade()` creates."""
    found: dict[str, list[dict[str, Any]]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name.startswith("upgrade"):
            _read_body(stmt, found)
    return found


def _read_body(function: ast.AST, found: dict[str, list[dict[str, Any]]]) -> None:
    batches: dict[str, str] = {}  # `with op.batch_alter_table("users") as batch_op` -> {"batch_op": "users"}
    for node in ast.walk(function):
        if isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Call):
            table = _text(_argument(node.context_expr, 0, "table_name"))
            if (
                called_name(node.context_expr) == "batch_alter_table"
                and table
                and isinstance(node.optional_vars, ast.Name)
            ):
                batches[node.optional_vars.id] = table
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        batch = batches.get(receiver.id) if isinstance(receiver, ast.Name) else None
        shift = 1 if batch is None else 0  # a batch operation names no table
        table = batch or _text(_argument(node, 1, "table_name"))
        name = node.func.attr
        if name == "create_table":
            _created_table(node, found)
        elif table and name in {"create_unique_constraint", "create_index", "create_primary_key"}:
            columns = _names(_argument(node, 1 + shift, "columns"))
            unique = name != "create_index" or _true(node, "unique")
            if columns:
                found.setdefault(table, []).append({"columns": columns, "unique": unique})


def _created_table(call: ast.Call, found: dict[str, list[dict[str, Any]]]) -> None:
    """`op.create_table("users", sa.Column("email", ..., unique=True), sa.UniqueConstraint("a", "b"))`."""
    table = _text(_argument(call, 0, "table_name"))
    if not table:
        return
    primary: list[str] = []
    for item in call.args[1:]:
        if not isinstance(item, ast.Call):
            continue
        called = called_name(item)
        if called == "Column":
            column = _text(item.args[0]) if item.args else None
            if column is None:
                continue
            if _true(item, "primary_key"):
                primary.append(column)
            elif _true(item, "unique") or _true(item, "index"):
                found.setdefault(table, []).append({"columns": [column], "unique": _true(item, "unique")})
        elif called in {"UniqueConstraint", "PrimaryKeyConstraint"}:
            columns = [name for name in map(_text, item.args) if name]
            if columns and len(columns) == len(item.args):
                found.setdefault(table, []).append({"columns": columns, "unique": True})
    if primary:
        found.setdefault(table, []).append({"columns": primary, "unique": True})


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _names(expr: ast.expr | None) -> list[str]:
    """The plain column names of a list, up to the first expression (`sa.text("lower(email)")`)."""
    if not isinstance(expr, (ast.List, ast.Tuple)):
        return []
    names: list[str] = []
    for element in expr.elts:
        name = _text(element)
        if name is None or not name.isidentifier():
            break
        names.append(name)
    return names


def _text(expr: ast.expr | None) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def _true(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)
