"""The rule catalogue: every rule orm-lint knows, declared once as data.

This package imports neither `ast` walkers nor mypy: engines, docs and reports read it.
"""

from __future__ import annotations

from . import correctness, migrations, performance, schema, security
from .model import (
    CATEGORY_BLOCKS,
    CODE_PATTERN,
    NAME_PATTERN,
    PROBLEMS,
    Category,
    Docs,
    Engine,
    Framework,
    Rule,
    Severity,
)

RULES: tuple[Rule, ...] = performance.RULES + security.RULES + schema.RULES + migrations.RULES + correctness.RULES
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


def find_rule(code_or_name: str) -> Rule | None:
    """A rule by its code (`ORM101`, any case) or its name (`query-in-loop`)."""
    key = code_or_name.strip()
    return RULES_BY_CODE.get(key.upper()) or RULES_BY_NAME.get(key.lower())


__all__ = [
    "CATEGORY_BLOCKS",
    "CODE_PATTERN",
    "NAME_PATTERN",
    "PROBLEMS",
    "RULES",
    "RULES_BY_CODE",
    "RULES_BY_NAME",
    "Category",
    "Docs",
    "Engine",
    "Framework",
    "Rule",
    "Severity",
    "find_rule",
]
