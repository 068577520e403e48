"""Reading class bodies: `name = value` / `name: annotation = value` statements and called names."""

from __future__ import annotations

import ast


def named_assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    """(target, annotation, value) of `x = v` or `x: T = v` to one name; (None, None, None) otherwise."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, None, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.annotation, stmt.value
    return None, None, None


def called_name(call: ast.Call) -> str:
    """`Field` for `Field(...)` and `models.Field(...)`."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
