"""Facts about one model class, read from its definition while mypy analyses it.

They are stored in `TypeInfo.metadata` so that they survive mypy's cache: later runs
that load the model from the cache never see the class body again.
"""

from __future__ import annotations

from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    ClassDef,
    Decorator,
    DictExpr,
    Expression,
    MemberExpr,
    NameExpr,
    ReturnStmt,
    StrExpr,
    TypeInfo,
)

from ..frameworks import fullnames, models

METADATA_KEY = "orm_lint"
Facts = dict[str, Any]


def callee_name(call: CallExpr) -> str:
    """`relationship` for `relationship(...)`, `db.relationship(...)` and `sa.orm.relationship(...)`."""
    callee = call.callee
    if isinstance(callee, (NameExpr, MemberExpr)):
        return callee.name
    return ""


def keyword(call: CallExpr, name: str) -> Expression | None:
    for arg_name, arg in zip(call.arg_names, call.args):
        if arg_name == name:
            return arg
    return None


def literal(expr: Expression | None) -> Any:
    """The value of a literal (`"selectin"`, `True`), or a marker for anything else."""
    if isinstance(expr, StrExpr):
        return expr.value
    if isinstance(expr, NameExpr) and expr.fullname in {"builtins.True", "builtins.False", "builtins.None"}:
        return {"builtins.True": True, "builtins.False": False, "builtins.None": None}[expr.fullname]
    return "<dynamic>" if expr is not None else None


def _position(node: Expression | AssignmentStmt) -> dict[str, int]:
    return {
        "line": node.line,
        "column": node.column,
        "end_line": node.end_line or node.line,
        "end_column": node.end_column if node.end_column is not None else node.column,
    }


def framework_of(info: TypeInfo) -> str | None:
    names = {base.fullname for base in info.mro}
    if fullnames.DJANGO_MODEL in names:
        return "django"
    if fullnames.SQLMODEL_BASE in names:
        return "sqlmodel"
    if names & fullnames.SQLALCHEMY_BASES:
        return "sqlalchemy"
    return None


def collect_facts(defn: ClassDef, framework: str) -> Facts:
    """Relations and columns declared in the class body."""
    facts: Facts = {
        "framework": framework,
        "table": _is_table(defn, framework),
        "relations": {},
        "columns": {},
    }
    for stmt in defn.defs.body:
        if isinstance(stmt, AssignmentStmt) and len(stmt.lvalues) == 1 and isinstance(stmt.lvalues[0], NameExpr):
            name = stmt.lvalues[0].name
            if isinstance(stmt.rvalue, CallExpr):
                _declaration(name, stmt, stmt.rvalue, framework, facts)
        elif isinstance(stmt, Decorator) and stmt.func.body.body:
            # @declared_attr def author_id(cls): return mapped_column(ForeignKey(...))
            last = stmt.func.body.body[-1]
            if isinstance(last, ReturnStmt) and isinstance(last.expr, CallExpr):
                _declaration(stmt.func.name, stmt, last.expr, framework, facts)  # type: ignore[arg-type]
    return facts


def _is_table(defn: ClassDef, framework: str) -> bool:
    """SQLModel classes are tables only with `table=True`; mapped SQLAlchemy and Django classes are."""
    if framework == "sqlmodel":
        return literal(defn.keywords.get("table")) is True
    return True


def _declaration(name: str, stmt: Any, call: CallExpr, framework: str, facts: Facts) -> None:
    kind = callee_name(call)
    if kind in models.RELATIONSHIP_CALLS:
        facts["relations"][name] = {
            "lazy": _relationship_lazy(call),
            "back_populates": _string(keyword(call, "back_populates")),
            "backref": _string(keyword(call, "backref")),
            **_position(stmt),
        }
    elif kind in models.COLUMN_CALLS and framework != "django":
        column = call.args[0] if kind == "deferred" and call.args and isinstance(call.args[0], CallExpr) else call
        facts["columns"][name] = _column(name, column, stmt)
        facts["columns"][name]["deferred"] = kind == "deferred" or literal(keyword(call, "deferred")) is True
    elif framework == "django" and kind in models.DJANGO_FOREIGN_KEYS:
        db_index = literal(keyword(call, "db_index"))
        facts["columns"][name] = {
            "db_name": f"{name}_id",
            "fk": True,
            "indexed": db_index is not False or kind == "OneToOneField" or literal(keyword(call, "unique")) is True,
            "primary": literal(keyword(call, "primary_key")) is True,
            **_position(stmt),
        }
        facts["relations"][name] = {"lazy": "select", **_position(stmt)}
    elif framework == "django" and kind == models.DJANGO_MANY_TO_MANY:
        facts["relations"][name] = {"lazy": "select", **_position(stmt)}


def _string(expr: Expression | None) -> str | None:
    return expr.value if isinstance(expr, StrExpr) else None


def _relationship_lazy(call: CallExpr) -> str:
    lazy = keyword(call, "lazy")
    if lazy is not None:
        return str(literal(lazy))
    options = keyword(call, "sa_relationship_kwargs")
    if isinstance(options, DictExpr):
        for key, value in options.items:
            if isinstance(key, StrExpr) and key.value == "lazy":
                return str(literal(value))
    elif options is not None:
        return "<dynamic>"
    return "select"


def _column(name: str, call: CallExpr, stmt: Any) -> dict[str, Any]:
    has_fk = any(isinstance(a, CallExpr) and callee_name(a) == models.FOREIGN_KEY_CALL for a in call.args)
    if literal(keyword(call, "foreign_key")) not in (None, False):
        has_fk = True  # SQLModel Field(foreign_key=...)
    db_name = call.args[0].value if call.args and isinstance(call.args[0], StrExpr) else name
    primary = literal(keyword(call, "primary_key")) is True
    return {
        "db_name": db_name,
        "fk": has_fk,
        "indexed": primary or literal(keyword(call, "index")) is True or literal(keyword(call, "unique")) is True,
        "primary": primary,
        **_position(stmt),
    }


def store_facts(info: TypeInfo, facts: Facts) -> None:
    info.metadata[METADATA_KEY] = facts


def facts_of(info: TypeInfo) -> Facts | None:
    """The facts recorded for a class, computed now if the class body is still in memory."""
    facts = info.metadata.get(METADATA_KEY)
    if facts is not None:
        return facts
    framework = framework_of(info)
    if framework is None or not info.defn.defs.body:
        return None
    facts = collect_facts(info.defn, framework)
    store_facts(info, facts)
    return facts


def relation_declaration(info: TypeInfo, attribute: str) -> dict[str, Any] | None:
    """The relation's facts from the class that declares it (searching the MRO)."""
    for base in info.mro:
        facts = facts_of(base)
        if facts and attribute in facts["relations"]:
            return facts["relations"][attribute]
    return None


def column_declaration(info: TypeInfo, attribute: str) -> dict[str, Any] | None:
    for base in info.mro:
        facts = facts_of(base)
        if facts and attribute in facts["columns"]:
            return facts["columns"][attribute]
    return None
