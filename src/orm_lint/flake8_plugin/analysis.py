"""Run every registered syntax check on one parsed module."""

from __future__ import annotations

import ast

from ..config import Settings
from . import checks  # noqa: F401  (registers the checks)
from .registry import CHECKS, Report
from .scope import build_index, is_test_module

DEFAULT_SETTINGS = Settings()


def analyze(tree: ast.Module, filename: str, settings: Settings = DEFAULT_SETTINGS) -> list[Report]:
    """Every report for the module, in source order."""
    index = build_index(tree, filename, settings.endpoint_decorators, settings.backend)
    if not index.is_database_code:
        return []
    reports: list[Report] = []
    is_test = is_test_module(filename)
    for registered in CHECKS:
        if index.is_migration and not registered.runs_on_migrations:
            continue
        if is_test and not registered.runs_on_tests:
            continue
        reports.extend(registered.function(index))
    reports.sort(key=lambda r: (getattr(r.node, "lineno", 0), getattr(r.node, "col_offset", 0), r.rule.code))
    return reports
