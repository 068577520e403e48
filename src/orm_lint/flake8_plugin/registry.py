"""Checks register themselves next to their rule; the plugin runs whatever is registered."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..catalogue import Rule
from .scope import ModuleIndex


@dataclass(frozen=True)
class Report:
    """A rule's finding at a node, with the values for its message template."""

    rule: Rule
    node: ast.AST
    values: dict[str, str]
    end_node: ast.AST | None = None
    # Levels below the rule's severity, when the site shows less is at stake (a caller's value, a payload).
    lowered_by: int = 0
    # What the check knows beyond the message; the engine fills the framework and function when it does not.
    framework: str | None = None  # django, sqlalchemy, sqlmodel, flask-sqlalchemy or dbapi (frameworks.kinds)
    function: str | None = None  # the enclosing function, qualified (`BookViewSet.list`)
    model: str | None = None
    attribute: str | None = None  # the relation or column involved
    operation: str | None = None  # the ORM call at fault: `save`, `count`, `get`, `execute`, ...
    table_created_in: str | None = None  # the migration of the folder that created the table (or added the column)

    @property
    def message(self) -> str:
        return f"{self.rule.code} {self.rule.format_message(**self.values)}"

    @property
    def fix(self) -> str | None:
        """The concrete change, as the message says it."""
        return self.rule.format_fix(**self.values)


CheckFunction = Callable[[ModuleIndex], Iterator[Report]]


@dataclass(frozen=True)
class Check:
    rules: tuple[Rule, ...]
    function: CheckFunction
    # Migrations are linted by the migration-safety rules only (issue: N+1 noise there).
    runs_on_migrations: bool
    # Test code asserts on counts and truth values on purpose (`assert len(qs) == 2`).
    runs_on_tests: bool
    # Also on modules that import no ORM (a settings module): the check reads only module-level statements.
    runs_on_every_module: bool = False


CHECKS: list[Check] = []


def check(
    *rules: Rule, runs_on_migrations: bool = False, runs_on_tests: bool = True, runs_on_every_module: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check that reports the given rules."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(rules, function, runs_on_migrations, runs_on_tests, runs_on_every_module))
        return function

    return register
