"""Short source text for messages: `Book.objects.filter(...).first()`, never a whole statement."""

from __future__ import annotations

import ast

_LIMIT = 60


def short_call(node: ast.expr) -> str:
    """A chain with its arguments elided: `session.scalars(...).all()`."""
    if isinstance(node, ast.Call):
        inner = short_call(node.func)
        return f"{inner}({'...' if node.args or node.keywords else ''})"
    if isinstance(node, ast.Attribute):
        return f"{short_call(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return _clip(ast.unparse(node))


def source(node: ast.AST) -> str:
    return _clip(ast.unparse(node))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LIMIT else text[: _LIMIT - 3] + "..."
