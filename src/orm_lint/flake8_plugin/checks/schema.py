"""Foreign keys without an index, read from the model declarations themselves.

ORM301 for the models of every framework (Django, typed SQLAlchemy, SQLModel), ORM302 for
the untyped `db.Model` / `declarative_base()` models. One finding per column, where it is
declared (a mixin's column is reported on the mixin).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.schema import FOREIGN_KEY_WITHOUT_INDEX, FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL
from ...frameworks import models
from ..queries import call_name
from ..registry import Report, check
from ..scope import ModuleIndex

_SQLALCHEMY_FIX = "add index=True, or an Index in __table_args__ that starts with it"
_SQLMODEL_FIX = "add index=True to the Field, or an Index in __table_args__ that starts with it"
_COLUMN_CALLS = frozenset({"Column", "mapped_column"})


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


def _is_false(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords)


def _reference(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _leaders(calls: list[ast.expr], owner: str | None = None) -> set[str]:
    """The first column of each index, unique constraint or primary key among `calls`."""
    found = set()
    for call in calls:
        if not isinstance(call, ast.Call) or call_name(call) not in models.TABLE_INDEXES:
            continue
        columns = call.args[1:] if call_name(call) == "Index" else call.args
        fields = next((k.value for k in call.keywords if k.arg == "fields"), None)
        if isinstance(fields, (ast.List, ast.Tuple)):  # Django: Index(fields=[...]), UniqueConstraint(fields=[...])
            columns = fields.elts
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
            found.add(reference.removeprefix("-"))
    return found


def _meta_leaders(cls: ast.ClassDef) -> set[str]:
    """Fields that lead Django's `Meta.indexes`, `constraints` or `unique_together`/`index_together`."""
    found: set[str] = set()
    for stmt in cls.body:
        if not (isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"):
            continue
        for inner in stmt.body:
            if not (isinstance(inner, ast.Assign) and len(inner.targets) == 1):
                continue
            target, value = inner.targets[0], inner.value
            name = target.id if isinstance(target, ast.Name) else ""
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else []
            if name in {"indexes", "constraints"}:
                found |= _leaders(list(items))
            elif name in {"unique_together", "index_together"}:
                groups = items if items and isinstance(items[0], (ast.List, ast.Tuple)) else [value]
                for group in groups:
                    if isinstance(group, (ast.List, ast.Tuple)) and group.elts:
                        reference = _reference(group.elts[0])
                        if reference:
                            found.add(reference)
    return found


def _django_fix(field: str) -> str:
    return f'remove db_index=False, or add models.Index(fields=["{field}"]) to Meta.indexes'


def _django_foreign_keys(cls: ast.ClassDef) -> Iterator[tuple[str, ast.Call, str]]:
    """`ForeignKey(..., db_index=False)` no Meta index leads (Django indexes every other foreign key)."""
    leaders = _meta_leaders(cls)
    for stmt in cls.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        call = stmt.value
        name = stmt.targets[0].id
        if not (isinstance(call, ast.Call) and call_name(call) == "ForeignKey" and _is_false(call, "db_index")):
            continue
        if _is_true(call, "unique") or name in leaders or f"{name}_id" in leaders:
            continue
        yield name, call, _django_fix(name)


def _table_foreign_keys(cls: ast.ClassDef, module_calls: list[ast.expr]) -> Iterator[tuple[str, ast.Call, str]]:
    """`mapped_column(ForeignKey(...))`, `Column(ForeignKey(...))`, `Field(foreign_key=...)` nothing indexes."""
    leaders = _leaders(module_calls, owner=cls.name)
    columns: list[tuple[str, ast.Call, str]] = []
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        else:
            continue
        if not isinstance(target, ast.Name) or value is None:
            continue
        if target.id == "__table_args__" and isinstance(value, (ast.Tuple, ast.List, ast.Call)):
            items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
            leaders |= _leaders(list(items))
        elif isinstance(value, ast.Call) and call_name(value) in _COLUMN_CALLS:
            if any(isinstance(a, ast.Call) and call_name(a) == models.FOREIGN_KEY_CALL for a in value.args):
                columns.append((target.id, value, _SQLALCHEMY_FIX))
        elif isinstance(value, ast.Call) and call_name(value) == "Field":
            if any(k.arg == "foreign_key" for k in value.keywords):
                columns.append((target.id, value, _SQLMODEL_FIX))
    primary = [name for name, call, _ in columns if _is_true(call, "primary_key")]
    for name, call, fix in columns:
        if any(_is_true(call, k) for k in ("index", "unique")):
            continue
        if _is_true(call, "primary_key"):
            if name == primary[0]:
                continue  # the primary key's index starts with it
            fix = f"add index=True: the composite primary key's index starts with {primary[0]}, not {name}"
        db_name = _reference(call.args[0]) if call.args and isinstance(call.args[0], ast.Constant) else None
        if name in leaders or (db_name and db_name in leaders):
            continue
        yield name, call, fix


def _is_sqlmodel_table(cls: ast.ClassDef) -> bool:
    return any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in cls.keywords)


def _is_sqlmodel_class(cls: ast.ClassDef) -> bool:
    """Fields declared SQLModel's way: a table only with `table=True`, or as a table's base."""
    values = [getattr(stmt, "value", None) for stmt in cls.body]
    return any(isinstance(value, ast.Call) and call_name(value) == "Field" for value in values)


def _is_django_model(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(stmt, ast.Assign)
        and isinstance(stmt.value, ast.Call)
        and call_name(stmt.value) in models.DJANGO_FOREIGN_KEYS | {models.DJANGO_MANY_TO_MANY}
        for stmt in cls.body
    )


@check(FOREIGN_KEY_WITHOUT_INDEX, FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL)
def foreign_key_without_index(index: ModuleIndex) -> Iterator[Report]:
    """foreign-key-without-index (ORM301) and its untyped-model form (ORM302): a foreign key no index leads."""
    if index.backend == "mysql":
        return  # InnoDB indexes every foreign key itself
    bases = _untyped_bases(index)
    module_calls = [c for c in (getattr(stmt, "value", None) for stmt in index.tree.body) if c is not None]
    table_bases = {getattr(b, "id", None) for c in index.classes if _is_sqlmodel_table(c) for b in c.bases}
    for cls in index.classes:
        if _is_django_model(cls):
            found, rule = _django_foreign_keys(cls), FOREIGN_KEY_WITHOUT_INDEX
        elif _is_sqlmodel_class(cls) and not _is_sqlmodel_table(cls) and cls.name not in table_bases:
            continue  # a SQLModel schema no table inherits: it declares no column of any table
        else:
            untyped = _is_untyped_model(cls, bases)
            found = _table_foreign_keys(cls, module_calls)
            rule = FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL if untyped else FOREIGN_KEY_WITHOUT_INDEX
        created = _created_by_revisions(index, cls)
        for name, call, fix in found:
            if name in created:
                continue  # an Alembic revision creates the index the model does not declare
            yield Report(rule, call, {"column": f"{cls.name}.{name}", "fix": fix}, model=cls.name, attribute=name)


def _created_by_revisions(index: ModuleIndex, cls: ast.ClassDef) -> set[str]:
    """Columns that lead an index the project's Alembic revisions create on this model's table."""
    model = index.project.model(cls.name)
    if model is None or model.framework != "sqlalchemy":
        return set()
    return {columns[0] for columns in model.revision_indexes if columns}
