"""A model's indexes read from its class body: which columns lead an index, which are JSON, which hold few values.

Index advice is only as good as its knowledge of the indexes that exist, so every declaration that creates
one counts: primary keys, `unique=True`, `index=True`/`db_index=True`, Django's implicit foreign-key and
slug indexes, `Meta.indexes`/`unique_together`/`index_together`/`constraints`, `__table_args__` and
module-level `Index(...)`. A declaration this reader cannot follow marks the model's indexes unreadable, and
no advice is given for it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..frameworks import migrations as fw
from ..frameworks import models
from .columns import column_owner
from .statements import called_name, named_assignment

# Django fields indexed unless `db_index=False`.
_JSON_TYPES = frozenset({"JSON", "JSONB", "JSONField", "HStoreField", "HSTORE"})
# Columns no advised index should lead: few distinct values (a flag, an enum, a role, a language), or values too
# large for a B-tree entry (documents, binary blobs).
_POOR_LEADER_TYPES = frozenset(
    {
        "BooleanField", "NullBooleanField", "Boolean", "Enum", "bool", "TextField", "Text", "UnicodeText",
        "BinaryField", "LargeBinary", "LargeBinaryField", "ArrayField", "ARRAY", "PickleType", "bytes",
    }
)  # fmt: skip
_POOR_LEADER_NAMES = re.compile(
    r"^(is|has|can|should)_|^(role|type|kind|lang|language|locale|gender|auth_method|provider|port|visibility"
    r"|priority|level|sex|currency|country|timezone|direction)$|_(type|kind|flag|lang|locale)$"
)
_GIN_INDEXES = frozenset({"GinIndex", "GistIndex"})
_CONSTRAINTS = frozenset({"UniqueConstraint", "PrimaryKeyConstraint"})
_OTHER_TABLE_ARGS = frozenset({"CheckConstraint", "ForeignKeyConstraint"})


@dataclass
class IndexFacts:
    """What one model class declares about its indexes."""

    leading: list[list[str]] = field(default_factory=list)  # each index's plain columns, in order, until an expression
    json_columns: list[str] = field(default_factory=list)
    json_indexed: list[str] = field(default_factory=list)  # JSON columns a GIN or an expression index covers
    poor_leaders: list[str] = field(default_factory=list)  # few values (flags, enums, choices) or large ones
    unreadable: bool = False


def read_indexes(cls: ast.ClassDef) -> IndexFacts:
    """The indexes, JSON columns and columns no index should lead with a model class declares.

    A SQLAlchemy foreign key counts as leading an index: where it has none, ORM301 asks for exactly that."""
    facts = IndexFacts()
    primary: list[str] = []
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__table_args__":
            facts.unreadable = True
            continue
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            _django_meta(stmt, facts)
            continue
        target, annotation, value = named_assignment(stmt)
        if target is None or target.startswith("__") and target != "__table_args__":
            continue
        if target == "__table_args__":
            _table_args(value, facts)
            continue
        if isinstance(value, ast.Call):
            _column(target, value, annotation, facts, primary)
        elif (
            value is None
            and annotation is not None
            and (_annotated_bool(annotation) or _POOR_LEADER_NAMES.search(target))
        ):
            facts.poor_leaders.append(target)
    if primary:
        facts.leading.insert(0, primary)
    return facts


def module_indexes(tree: ast.Module) -> dict[str, list[list[str]]]:
    """`Index("ix", User.team_id, User.name)` at module level -> {"User": [["team_id", "name"]]}."""
    found: dict[str, list[list[str]]] = {}
    for stmt in tree.body:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if not (isinstance(value, ast.Call) and called_name(value) == "Index"):
            continue
        owners = [column_owner(arg) for arg in value.args[1:]]
        if owners and owners[0] is not None:
            found.setdefault(owners[0], []).append(_leading(value.args[1:]))
    return found


def _column(target: str, call: ast.Call, annotation: ast.expr | None, facts: IndexFacts, primary: list[str]) -> None:
    called = called_name(call)
    if called in models.RELATIONSHIP_CALLS:
        return
    types = {_last(node) for node in ast.walk(call) if isinstance(node, (ast.Name, ast.Attribute))}
    if annotation is not None:
        types |= {_last(node) for node in ast.walk(annotation) if isinstance(node, (ast.Name, ast.Attribute))}
    if called in _JSON_TYPES or types & _JSON_TYPES:
        facts.json_columns.append(target)
    if (
        called in _POOR_LEADER_TYPES
        or types & _POOR_LEADER_TYPES
        or _keyword(call, "choices") is not None
        or _POOR_LEADER_NAMES.search(target)
    ):
        facts.poor_leaders.append(target)
    flags = {name: _true(call, name) for name in ("primary_key", "unique", "index", "db_index")}
    if flags["primary_key"]:
        primary.append(target)
    if flags["unique"] or flags["index"] or flags["db_index"]:
        facts.leading.append([target])
    elif called in fw.INDEXED_BY_DEFAULT and _keyword(call, "db_index") is None:
        facts.leading.append([target])
    elif "ForeignKey" in types or _keyword(call, "foreign_key") is not None:
        facts.leading.append([target])  # a composite primary key's second column too


def _django_meta(meta: ast.ClassDef, facts: IndexFacts) -> None:
    for stmt in meta.body:
        target, _, value = named_assignment(stmt)
        if target in {"unique_together", "index_together"}:
            if not isinstance(value, (ast.Tuple, ast.List)):
                facts.unreadable = True
                continue
            groups = value.elts if value.elts and isinstance(value.elts[0], (ast.Tuple, ast.List)) else [value]
            for group in groups:
                if isinstance(group, (ast.Tuple, ast.List)):
                    facts.leading.append(_leading(group.elts))
        elif target in {"indexes", "constraints"}:
            if not isinstance(value, (ast.Tuple, ast.List)):
                facts.unreadable = True
                continue
            for item in value.elts:
                if not isinstance(item, ast.Call):
                    facts.unreadable = True
                    continue
                called = called_name(item)
                if target == "constraints" and called != "UniqueConstraint":
                    continue
                fields = _keyword(item, "fields")
                if isinstance(fields, (ast.Tuple, ast.List)):
                    columns = _leading(fields.elts)
                    if called in _GIN_INDEXES:
                        facts.json_indexed.extend(columns)
                    facts.leading.append(columns)
                elif item.args:  # an expression index: `Index(KeyTextTransform("plan", "data"), name=...)`
                    facts.json_indexed.extend(_strings(item.args))
                    facts.leading.append(_leading(item.args))


def _table_args(value: ast.expr | None, facts: IndexFacts) -> None:
    if isinstance(value, ast.Dict):
        return
    if not isinstance(value, (ast.Tuple, ast.List)):
        facts.unreadable = True
        return
    for item in value.elts:
        if isinstance(item, ast.Dict):
            continue
        if not isinstance(item, ast.Call):
            facts.unreadable = True
            continue
        called = called_name(item)
        if called == "Index":
            columns = item.args[1:]
            if _keyword(item, "postgresql_using") is not None or any(not _plain(c) for c in columns):
                facts.json_indexed.extend(_strings(columns))  # GIN, or an expression on a key
            facts.leading.append(_leading(columns))
        elif called in _CONSTRAINTS:
            facts.leading.append(_leading(item.args))
        elif called not in _OTHER_TABLE_ARGS:
            facts.unreadable = True


def _leading(columns: list[ast.expr]) -> list[str]:
    """The plain column names an index starts with (`"-created"` as `created`), up to the first expression."""
    names: list[str] = []
    for column in columns:
        name = _plain(column)
        if name is None:
            break
        names.append(name.lstrip("-"))
    return names


def _plain(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value if expr.value.lstrip("-").isidentifier() else None
    if isinstance(expr, ast.Attribute) and column_owner(expr) is not None:
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return None


def _strings(exprs: list[ast.expr]) -> list[str]:
    """Every name an index expression mentions (`data`, `Model.data["plan"]`, `text("(data->>'plan')")`)."""
    found: list[str] = []
    for expr in exprs:
        for node in ast.walk(expr):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.extend(part for part in _words(node.value))
            elif isinstance(node, ast.Attribute):
                found.append(node.attr)
            elif isinstance(node, ast.Name):
                found.append(node.id)
    return found


def _words(text: str) -> list[str]:
    word, words = "", []
    for char in text:
        if char.isalnum() or char == "_":
            word += char
        elif word:
            words.append(word)
            word = ""
    return [*words, word] if word else words


def _annotated_bool(annotation: ast.expr) -> bool:
    return any(isinstance(node, ast.Name) and node.id == "bool" for node in ast.walk(annotation))


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _true(call: ast.Call, name: str) -> bool:
    """The keyword is set true on the call or a call inside it (`sa_column=Column(..., index=True)`)."""
    for node in ast.walk(call):
        if isinstance(node, ast.Call):
            value = _keyword(node, name)
            if isinstance(value, ast.Constant) and value.value:
                return True
            if value is not None and not isinstance(value, ast.Constant):
                return True  # computed: maybe indexed, and advice stays silent
        elif isinstance(node, ast.Dict):  # `sa_column_kwargs={"unique": True}`
            for key, item in zip(node.keys, node.values):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == name
                    and not (isinstance(item, ast.Constant) and not item.value)
                ):
                    return True
    return False


def _last(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
