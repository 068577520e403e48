"""Run every registered syntax check, and the project's own rules, on one parsed module."""

from __future__ import annotations

import ast

from ..config import Settings, ignored_in_file
from . import checks  # noqa: F401  (registers the checks)
from .registry import CHECKS, Report
from ..paths import is_test_module
from ..project import index_for
from .scope import build_index
from .user_rules import applicable_rules, user_rule_reports

DEFAULT_SETTINGS = Settings()


def analyze(
    tree: ast.Module,
    filename: str,
    settings: Settings = DEFAULT_SETTINGS,
    source: str | None = None,
    *,
    assume_database_code: bool = False,
) -> list[Report]:
    """Every report for the module, in source order, less what `per-path-ignores` leaves out here.

    `source` is the module's text: the project's own rules (ast-grep) read it; without it they are skipped.
    `assume_database_code` analyses a module that imports no ORM too (robustness tests run every check on
    any code that way); users' runs leave it off.
    """
    reports = _built_in_reports(tree, filename, settings, assume_database_code)
    own_rules = applicable_rules(filename, settings) if source is not None else []
    if own_rules:
        reports.extend(user_rule_reports(str(source), own_rules))
    ignored = ignored_in_file(filename, settings)
    if ignored:
        reports = [r for r in reports if not r.rule.code.startswith(ignored)]
    reports.sort(key=lambda r: (getattr(r.node, "lineno", 0), getattr(r.node, "col_offset", 0), r.rule.code))
    return reports


def _built_in_reports(tree: ast.Module, filename: str, settings: Settings, every_module: bool) -> list[Report]:
    index = build_index(
        tree, filename, settings.endpoint_decorators, settings.backend, settings.pagination_helpers, every_module
    )
    if not index.is_database_code:
        return []
    if not index.is_migration:  # migrations are read with their own history, not the models of today
        index.project = index_for(filename, settings.cache_dir).seen_from(filename, index.imports)
    reports: list[Report] = []
    is_test = is_test_module(filename)
    for registered in CHECKS:
        if index.is_migration and not registered.runs_on_migrations:
            continue
        if is_test and not registered.runs_on_tests:
            continue
        reports.extend(registered.function(index))
    return reports
