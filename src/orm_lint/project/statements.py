"""Reading class and function bodies: assignments, called names, base classes, what runs on every call."""

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


def base_names(cls: ast.ClassDef) -> list[str]:
    """`["Model", "Mixin"]` for `class X(models.Model, Mixin)`, `Generic[T]` as `Generic`."""
    names = []
    for base in cls.bases:
        if isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Attribute):
            names.append(base.attr)
        elif isinstance(base, ast.Name):
            names.append(base.id)
    return names


_BRANCHES = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPOUND = (ast.If, ast.Try, ast.For, ast.AsyncFor, ast.While, ast.Match, ast.FunctionDef, ast.ClassDef)


def always_run(body: list[ast.stmt]) -> list[ast.AST]:
    """The nodes a function runs on every call: up to its first branch, loop or `return`, not inside
    `x if c else y`, `a or b` or a comprehension (`if not full: return` makes what follows optional)."""
    nodes: list[ast.AST] = []
    for statement in body:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            nodes.extend(always_run(statement.body))
            continue
        if isinstance(statement, _COMPOUND):
            break
        stack: list[ast.AST] = [statement]
        while stack:
            current = stack.pop()
            nodes.append(current)
            for child in ast.iter_child_nodes(current):
                if not isinstance(child, _BRANCHES):
                    stack.append(child)
                else:
                    stack.extend(_evaluated_first(child))
        if isinstance(statement, (ast.Return, ast.Raise)):
            break
    return nodes


def _evaluated_first(branch: ast.AST) -> list[ast.AST]:
    """The part of a branching expression that always runs: the test of `x if c else y`, the first
    operand of `a or b`, the first iterable of a comprehension."""
    if isinstance(branch, ast.IfExp):
        return [branch.test]
    if isinstance(branch, ast.BoolOp):
        return branch.values[:1]
    if isinstance(branch, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return [branch.generators[0].iter]
    return []
