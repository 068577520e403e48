"""Run every registered syntax check, and the project's own rules, on one parsed module."""

from __future__ import annotations

import ast
from dataclasses import replace

from ..config import Settings, ignored_in_file
from . import checks  # noqa: F401  (registers the checks)
from .registry import CHECKS, Report
from ..frameworks.kinds import family, framework_of
from ..tests_scope import is_test_path
from ..project import index_for
from .queries import follow_imports
from .scope import ModuleIndex, Scope, build_index
from .user_rules import applicable_rules, user_rule_reports

DEFAULT_SETTINGS = Settings()


def analyze(
    tree: ast.Module,
    filename: str,
    settings: Settings = DEFAULT_SETTINGS,
    source: str | None = None,
    *,
    assume_database_code: bool = False,
    good_patterns: list[tuple[str, ast.AST, int]] | None = None,
) -> list[Report]:
    """Every report for the module, in source order, less what `per-path-ignores` leaves out here.

    `source` is the module's text: the project's own rules (ast-grep) read it; without it they are skipped.
    `assume_database_code` analyses a module that imports no ORM too (robustness tests run every check on
    any code that way); users' runs leave it off. `good_patterns`, when given, receives the review's good
    patterns, counted on the same walk.
    """
    index = build_index(
        tree,
        filename,
        settings.endpoint_decorators,
        settings.backend,
        settings.pagination_helpers,
        assume_database_code,
    )
    reports = _built_in_reports(index, filename, settings) if index.is_database_code else _module_wide_reports(index)
    if good_patterns is not None and index.is_database_code and not index.is_migration:
        from .good_patterns import good_patterns as counted  # the review only: flake8 runs never import it

        good_patterns.extend(counted(index))
    own_rules = applicable_rules(filename, settings) if source is not None else []
    if own_rules:
        reports.extend(user_rule_reports(str(source), own_rules))
    ignored = ignored_in_file(filename, settings)
    if ignored:
        reports = [r for r in reports if not r.rule.code.startswith(ignored)]
    reports.sort(key=lambda r: (getattr(r.node, "lineno", 0), getattr(r.node, "col_offset", 0), r.rule.code))
    return placed(reports, index) if reports else reports


def placed(reports: list[Report], index: ModuleIndex) -> list[Report]:
    """The reports with what the engine knows of their place: the module's framework, the enclosing function."""
    framework = module_framework(index)
    functions = _functions(index)
    done = []
    for report in reports:
        line = getattr(report.node, "lineno", 0)
        inside = [(first, name) for first, last, name in functions if first <= line <= last]
        done.append(
            replace(
                report,
                framework=_framework(report.framework, framework),
                function=report.function or (max(inside)[1] if inside else None),
            )
        )
    return done


def _framework(judged: str | None, module: str | None) -> str | None:
    """The check's framework (the family it judged the code by), made specific by the module's imports."""
    if judged is None or (module is not None and family(module) == family(judged)):
        return module
    return judged


def module_framework(index: ModuleIndex) -> str | None:
    """The framework the module's code is written for: from its imports, and the project models it imports."""
    imported = set(index.imports.values())
    for name in index.imports:
        model = index.project.model(name)
        if model is not None:
            imported.add(model.framework)  # "django" or "sqlalchemy", named as their root modules
    return framework_of(imported)


def _functions(index: ModuleIndex) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of each function of the module."""
    found = []
    for scope in index.scopes:
        if not scope.is_function:
            continue
        names = []
        current: Scope | None = scope
        while current is not None and current.is_function:
            names.append(current.name)
            if current.owner_class is not None:
                names.append(current.owner_class.name)
            current = current.parent
        node: ast.FunctionDef = scope.node  # type: ignore[assignment]
        found.append((node.lineno, node.end_lineno or node.lineno, ".".join(reversed(names))))
    return found


def _module_wide_reports(index: ModuleIndex) -> list[Report]:
    """The checks that read a module's own statements, for a module that imports no ORM (settings)."""
    if index.is_migration or is_test_path(index.filename):
        return []
    return [report for c in CHECKS if c.runs_on_every_module for report in c.function(index)]


def _built_in_reports(index: ModuleIndex, filename: str, settings: Settings) -> list[Report]:
    # Migrations are read with their own history; today's models only tell them which tables stay small.
    index.project = index_for(filename, settings.cache_dir).seen_from(filename, index.imports)
    if not index.is_migration:
        follow_imports(index)
    reports: list[Report] = []
    is_test = is_test_path(filename)
    for registered in CHECKS:
        if index.is_migration and not registered.runs_on_migrations:
            continue
        if is_test and not registered.runs_on_tests:
            continue
        reports.extend(registered.function(index))
    return reports
