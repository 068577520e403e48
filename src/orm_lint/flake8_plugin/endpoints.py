"""Which functions are HTTP endpoints: Django views, Flask/FastAPI routes, router handlers."""

from __future__ import annotations

import ast

from ..frameworks import django
from .queries import dotted_name
from .scope import ModuleIndex, Scope

ROUTE_DECORATOR_METHODS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route", "head", "options"})
_VIEW_CLASS_SUFFIXES = ("View", "ViewSet", "Resource", "Handler", "Endpoint")
_VIEW_METHODS = frozenset({"get", "list", "post"})


def endpoint_name(scope: Scope, index: ModuleIndex, extra_decorators: frozenset[str] = frozenset()) -> str | None:
    """The endpoint's name when the scope is a request handler, else None."""
    node = scope.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in node.decorator_list:
        if _is_route_decorator(decorator, extra_decorators):
            return node.name
    params = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    if scope.owner_class is not None:
        if (
            node.name in _VIEW_METHODS
            and params[1:2] == ["request"]
            and scope.owner_class.name.endswith(_VIEW_CLASS_SUFFIXES)
        ):
            return f"{scope.owner_class.name}.{node.name}"
        return None
    if params[:1] == ["request"] and any(name.startswith("django") for name in index.imports.values()):
        return node.name
    return None


def _is_route_decorator(decorator: ast.expr, extra: frozenset[str]) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = dotted_name(target) or ""
    last = name.rsplit(".", 1)[-1]
    if last in django.VIEW_DECORATORS or name in extra or last in extra:
        return True
    if (
        isinstance(decorator, ast.Call)
        and isinstance(target, (ast.Attribute, ast.Name))
        and last in ROUTE_DECORATOR_METHODS
    ):
        first = decorator.args[0] if decorator.args else None
        has_path = isinstance(first, ast.Constant) and isinstance(first.value, str)
        return has_path or any(k.arg in {"path", "rule"} for k in decorator.keywords)
    return False
