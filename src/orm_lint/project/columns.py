"""A model's columns and which sets of them are unique, read from its class body (never by importing it).

A lookup that expects one row is safe only on a unique column set; when a declaration could make
a column unique in a way this reader cannot follow (a computed `__table_args__`, an expression
constraint, an `Annotated` alias), the model or the column is marked uncertain and the checks stay
silent about it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..frameworks import models
from .statements import called_name, named_assignment

if TYPE_CHECKING:
    from .index import ProjectIndex

_DJANGO_NOT_COLUMNS = frozenset({models.DJANGO_MANY_TO_MANY, "GenericRelation", "GenericForeignKey"})
# Annotations whose column type carries no constraint: `Mapped[str]`, `Optional[datetime]`, `int | None`.
_PLAIN_TYPES = frozenset(
    {
        "str", "int", "float", "bool", "bytes", "bytearray", "datetime", "date", "time", "timedelta", "Decimal",
        "UUID", "uuid", "dict", "list", "Dict", "List", "Any", "Optional", "Union", "Mapped", "None", "JSON",
    }
)  # fmt: skip


def read_columns(cls: ast.ClassDef, bases: list[str]) -> tuple[list[str], list[list[str]], list[str], bool]:
    """(columns, unique column sets, columns that may be unique unreadably, table-level uniques unreadable)."""
    columns: list[str] = []
    unique: list[list[str]] = []
    uncertain: list[str] = []
    primary: list[str] = []
    unreadable = False
    bare_annotations = "SQLModel" in bases or any(k.arg == "table" for k in cls.keywords)
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__table_args__":
            unreadable = True  # a declared_attr
            continue
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            unreadable |= _django_meta(stmt, unique)
            continue
        target, annotation, value = named_assignment(stmt)
        if target is None:
            continue
        if target == "__table_args__":
            unreadable |= _table_args(value, unique)
            continue
        if target == "__table__":
            unreadable = True
            continue
        if target.startswith("__"):
            continue
        if isinstance(value, ast.Call):
            called = called_name(value)
            if called in models.RELATIONSHIP_CALLS or called in _DJANGO_NOT_COLUMNS:
                continue
            is_column = (
                called in models.COLUMN_CALLS or called.endswith("Field") or called in models.DJANGO_FOREIGN_KEYS
            )
            if not is_column:
                continue
            columns.append(target)
            flags = _flags(value)
            if called == "OneToOneField":
                flags["unique"] = True  # Django makes every one-to-one column unique
            if flags.get("unique") is None or flags.get("primary_key") is None:
                uncertain.append(target)
            elif flags.get("primary_key"):
                primary.append(target)
            elif flags.get("unique"):
                unique.append([target])
            if annotation is not None and not _plain(annotation):
                uncertain.append(target)
        elif value is None and annotation is not None:
            if _outer(annotation) == "Mapped" or bare_annotations:
                if _outer(annotation) == "ClassVar":
                    continue
                columns.append(target)
                if not _plain(annotation):
                    uncertain.append(target)
    if primary:
        unique.append(sorted(primary))
    return columns, unique, sorted(set(uncertain)), unreadable


def module_unique_indexes(tree: ast.Module) -> dict[str, list[list[str]]]:
    """`Index("ix", User.email, unique=True)` at module level -> {"User": [["email"]]}."""
    found: dict[str, list[list[str]]] = {}
    for stmt in tree.body:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if not (isinstance(value, ast.Call) and called_name(value) == "Index" and _flag(value, "unique") is True):
            continue
        owners = {column_owner(arg) for arg in value.args[1:]}
        names = [arg.attr for arg in value.args[1:] if isinstance(arg, ast.Attribute)]
        if len(owners) == 1 and None not in owners and len(names) == len(value.args) - 1:
            found.setdefault(str(owners.pop()), []).append(sorted(names))
    return found


def column_owner(expr: ast.expr) -> str | None:
    """`User` for `User.email`, `User.__table__.c.email`."""
    root = expr.value if isinstance(expr, ast.Attribute) else None
    while isinstance(root, ast.Attribute) and root.attr in {"c", "__table__"}:
        root = root.value
    return root.id if isinstance(root, ast.Name) else None


def _flags(call: ast.Call) -> dict[str, bool | None]:
    """`unique` / `primary_key` of a column, also inside `sa_column=Column(...)` and `sa_column_kwargs={...}`.

    False when absent, None when set to something other than a constant.
    """
    flags: dict[str, bool | None] = {"unique": False, "primary_key": False}
    for node in ast.walk(call):
        if isinstance(node, ast.Call):
            for name in flags:
                value = _flag(node, name)
                if value is not False:
                    flags[name] = value if flags[name] is False else flags[name] or value
        elif isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in flags:
                    value = item.value if isinstance(item, ast.Constant) else None
                    flags[key.value] = bool(value) if value is not None else None
    return flags


def _flag(call: ast.Call, name: str) -> bool | None:
    """False when the keyword is absent or false, True when true, None when computed."""
    for keyword in call.keywords:
        if keyword.arg == name:
            if isinstance(keyword.value, ast.Constant):
                return bool(keyword.value.value)
            return None
        if keyword.arg is None:
            return None  # **options
    return False


def _table_args(value: ast.expr | None, unique: list[list[str]]) -> bool:
    """Read the unique constraints of `__table_args__`; True when some part cannot be read."""
    if isinstance(value, ast.Dict):
        return False
    if not isinstance(value, (ast.Tuple, ast.List)):
        return True
    for item in value.elts:
        if isinstance(item, ast.Dict):
            continue
        if not isinstance(item, ast.Call):
            return True
        called = called_name(item)
        if called in {"UniqueConstraint", "PrimaryKeyConstraint"} or (called == "Index" and _flag(item, "unique")):
            if called == "Index" and _flag(item, "unique") is None:
                return True
            names = [_column_name(arg) for arg in (item.args[1:] if called == "Index" else item.args)]
            if not names or None in names:
                return True
            unique.append(sorted(str(name) for name in names))
        elif called == "Index" and _flag(item, "unique") is None:
            return True
        elif called not in {"Index", "CheckConstraint", "ForeignKeyConstraint"}:
            return True
    return False


def _django_meta(meta: ast.ClassDef, unique: list[list[str]]) -> bool:
    """Read `unique_together` and `constraints`; True when some part cannot be read."""
    for stmt in meta.body:
        target, _, value = named_assignment(stmt)
        if target == "unique_together":
            if not isinstance(value, (ast.Tuple, ast.List)):
                return True
            groups = value.elts if value.elts and isinstance(value.elts[0], (ast.Tuple, ast.List)) else [value]
            for group in groups:
                names = [_column_name(e) for e in group.elts] if isinstance(group, (ast.Tuple, ast.List)) else [None]
                if None in names:
                    return True
                unique.append(sorted(str(name) for name in names))
        elif target == "constraints":
            if not isinstance(value, (ast.Tuple, ast.List)):
                return True
            for item in value.elts:
                if not isinstance(item, ast.Call):
                    return True
                if called_name(item) != "UniqueConstraint":
                    continue
                fields = next((k.value for k in item.keywords if k.arg == "fields"), None)
                if item.args or not isinstance(fields, (ast.Tuple, ast.List)):
                    return True  # expressions (`Lower("email")`) or computed fields
                names = [_column_name(e) for e in fields.elts]
                if not names or None in names:
                    return True
                unique.append(sorted(str(name) for name in names))
    return False


def _column_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return None


def _plain(annotation: ast.expr) -> bool:
    """Only builtin and standard types: no `Annotated` alias that may carry a unique column."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id not in _PLAIN_TYPES:
            return False
        if isinstance(node, ast.Attribute) and node.attr not in _PLAIN_TYPES:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return False
    return True


def _outer(annotation: ast.expr) -> str:
    node = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


@dataclass(frozen=True)
class KnownColumns:
    """A model's columns and unique column sets, its bases' included."""

    framework: str
    columns: frozenset[str]
    unique_sets: tuple[frozenset[str], ...]
    uncertain: frozenset[str]

    def covers(self, names: set[str]) -> bool:
        """Some unique set lies within `names`: a lookup by them finds one row at most."""
        return any(unique <= names for unique in self.unique_sets)


def known_columns(project: ProjectIndex, name: str | None) -> KnownColumns | None:
    """What the model's columns are, or None when a base or a constraint is out of the index's sight."""
    model = project.model(name)
    if model is None:
        return None
    columns: set[str] = set()
    unique: list[frozenset[str]] = []
    uncertain: set[str] = set()
    pending, seen = [model.name], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        facts = project.model(current)
        if facts is None or facts.unreadable_uniques:
            return None
        columns.update(facts.columns)
        unique.extend(frozenset(names) for names in facts.unique_sets)
        uncertain.update(facts.uncertain_columns)
        pending.extend(base for base in facts.bases if base not in models.MODEL_ROOT_BASES and base != current)
    if model.framework == "django":  # the implicit primary key, and `pk` for whichever it is
        columns |= {"id", "pk"}
        unique += [frozenset({"id"}), frozenset({"pk"})]
    return KnownColumns(model.framework, frozenset(columns), tuple(unique), frozenset(uncertain))
