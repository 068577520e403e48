"""foreign-key-without-index: reported at the column while mypy analyses the model class."""

from __future__ import annotations

from typing import Any

from mypy.nodes import Context, TypeInfo
from mypy.plugin import ClassDefContext

from ..catalogue.schema import FOREIGN_KEY_WITHOUT_INDEX
from .errorcodes import CODES
from .model_facts import METADATA_KEY, Facts
from .reporting import report

CODE = CODES[FOREIGN_KEY_WITHOUT_INDEX.code]


def _fix(framework: str, name: str) -> str:
    if framework == "django":
        return f'remove db_index=False or add models.Index(fields=["{name}"]) to Meta.indexes'
    return "add index=True, or an Index in __table_args__ that starts with it"


def _inherited(info: TypeInfo) -> list[tuple[str, str, dict[str, Any], list[str]]]:
    """Columns of non-table SQLModel bases defined in the same module (their mixins)."""
    found = []
    for base in info.mro[1:]:
        facts = base.metadata.get(METADATA_KEY)
        if facts and not facts["table"] and base.module_name == info.module_name:
            found.extend((base.name, name, column, facts["index_leaders"]) for name, column in facts["columns"].items())
    return found


def report_unindexed_foreign_keys(ctx: ClassDefContext, facts: Facts) -> None:
    framework = facts["framework"]
    if framework == "sqlmodel" and not facts["table"]:
        return  # a plain data model; its columns count where a table class inherits them
    info = ctx.cls.info
    columns = [(info.name, name, column, facts["index_leaders"]) for name, column in facts["columns"].items()]
    if framework == "sqlmodel":
        columns += _inherited(info)
    leaders = {leader for _, _, _, group in columns for leader in group}
    for owner, name, column, _ in columns:
        if not column["fk"] or column["indexed"] or column["primary"]:
            continue
        if name in leaders or column["db_name"] in leaders:
            continue
        where = Context(column["line"], column["column"])
        where.end_line, where.end_column = column["end_line"], column["end_column"]
        message = FOREIGN_KEY_WITHOUT_INDEX.format_message(column=f"{owner}.{name}", fix=_fix(framework, name))
        report(ctx.api, message, where, CODE)
