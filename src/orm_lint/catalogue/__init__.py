"""The rule catalogue: every rule orm-lint knows, declared once as data.

This package imports neither `ast` walkers nor mypy: engines, docs and reports read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from . import correctness, migrations, performance, schema, security
from .configured import ConfiguredRule
from .model import (
    CATEGORY_BLOCKS,
    CODE_PATTERN,
    NAME_PATTERN,
    PROBLEMS,
    Category,
    Docs,
    Engine,
    Example,
    Framework,
    Rule,
    Severity,
)

RULES: tuple[Rule, ...] = performance.RULES + security.RULES + schema.RULES + migrations.RULES + correctness.RULES
# The rules in force: the built-in ones, with the project's severity overrides, then the
# project's own rules. `use_configuration()` sets them when the settings are loaded.
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


def find_rule(code_or_name: str) -> Rule | None:
    """A rule by its code (`ORM101`, any case) or its name (`query-in-loop`)."""
    key = code_or_name.strip()
    return RULES_BY_CODE.get(key.upper()) or RULES_BY_NAME.get(key.lower())


def all_rules() -> tuple[Rule, ...]:
    """The rules in force: built-in (with severity overrides), then the project's own."""
    return tuple(RULES_BY_CODE.values())


def use_configuration(configured: Sequence[ConfiguredRule], severities: Callable[[Rule], Severity]) -> None:
    """Put the project's rules and severities in force for this process (replacing earlier ones)."""
    in_force: list[Rule] = []
    for rule in (*RULES, *configured):
        severity = severities(rule)
        in_force.append(rule if severity is rule.severity else replace(rule, severity=severity))
    for table, key in ((RULES_BY_CODE, "code"), (RULES_BY_NAME, "name")):
        table.clear()
        table.update({getattr(rule, key): rule for rule in in_force})


__all__ = [
    "CATEGORY_BLOCKS",
    "CODE_PATTERN",
    "ConfiguredRule",
    "NAME_PATTERN",
    "PROBLEMS",
    "RULES",
    "RULES_BY_CODE",
    "RULES_BY_NAME",
    "Category",
    "Docs",
    "Engine",
    "Example",
    "Framework",
    "Rule",
    "Severity",
    "all_rules",
    "find_rule",
    "use_configuration",
]
