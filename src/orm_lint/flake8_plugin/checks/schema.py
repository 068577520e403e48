"""foreign-key-without-index-on-untyped-model: ORM301 for the models mypy cannot see."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.schema import FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL
from ...frameworks import models
from ..queries import call_name
from ..registry import Report, check
from ..scope import ModuleIndex

_FIX = "add index=True, or an Index in __table_args__ that starts with it"


def _untyped_bases(index: ModuleIndex) -> set[str]:
    """Module names bound to `declarative_base()`: classes on them are `Any` to mypy."""
    return {
        name
        for name, values in index.module.assignments.items()
        if any(isinstance(v, ast.Call) and call_name(v) == "declarative_base" for v in values)
    }


def _is_untyped_model(cls: ast.ClassDef, bases: set[str]) -> bool:
    """`class X(db.Model)` (not Django's `models.Model`, which django-stubs types) or a local Base."""
    for base in cls.bases:
        if isinstance(base, ast.Attribute) and base.attr == "Model" and isinstance(base.value, ast.Name):
            return base.value.id != "models"
        if isinstance(base, ast.Name) and base.id in bases:
            return True
    return False


def _is_true(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)


def _reference(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _leaders(calls: list[ast.expr], owner: str | None = None) -> set[str]:
    found = set()
    for call in calls:
        if not isinstance(call, ast.Call) or call_name(call) not in models.TABLE_INDEXES:
            continue
        columns = call.args[1:] if call_name(call) == "Index" else call.args
        if not columns:
            continue
        first = columns[0]
        if owner is not None:  # module level: `Index("ix", Comment.post_id)`
            root = first.value if isinstance(first, ast.Attribute) else None
            while isinstance(root, ast.Attribute) and root.attr in {"c", "__table__"}:
                root = root.value
            if not (isinstance(root, ast.Name) and root.id == owner):
                continue
        reference = _reference(first)
        if reference:
            found.add(reference)
    return found


@check(FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL)
def foreign_key_without_index_on_untyped_model(index: ModuleIndex) -> Iterator[Report]:
    """foreign-key-without-index-on-untyped-model: `db.Column(db.ForeignKey(...))` with no index."""
    if index.backend == "mysql":
        return  # InnoDB indexes every foreign key itself
    bases = _untyped_bases(index)
    module_calls = [getattr(stmt, "value", None) for stmt in index.tree.body]
    for cls in index.classes:
        if not _is_untyped_model(cls, bases):
            continue
        leaders = _leaders([c for c in module_calls if c is not None], owner=cls.name)
        columns: list[tuple[str, ast.Call]] = []
        for stmt in cls.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if not isinstance(target, ast.Name) or not isinstance(stmt.value, (ast.Call, ast.Tuple, ast.List)):
                continue
            if target.id == "__table_args__":
                items = stmt.value.elts if isinstance(stmt.value, (ast.Tuple, ast.List)) else [stmt.value]
                leaders |= _leaders(items)
            elif isinstance(stmt.value, ast.Call) and call_name(stmt.value) in {"Column", "mapped_column"}:
                columns.append((target.id, stmt.value))
        for name, call in columns:
            has_fk = any(isinstance(a, ast.Call) and call_name(a) == models.FOREIGN_KEY_CALL for a in call.args)
            if not has_fk or any(_is_true(call, k) for k in ("index", "unique", "primary_key")):
                continue
            db_name = _reference(call.args[0]) if call.args and isinstance(call.args[0], ast.Constant) else None
            if name in leaders or (db_name and db_name in leaders):
                continue
            yield Report(
                FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL, call, {"column": f"{cls.name}.{name}", "fix": _FIX}
            )
