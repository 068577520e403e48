"""Reporting from hooks without changing mypy's own verdicts, and where the project allows it.

mypy tries alternatives (overload items, inference in several contexts) under error
watchers and rejects an alternative that produced an error. An orm-lint finding is a
fact about the code, not a type error, so it must not take part: it is reported with
the speculative watchers set aside. Loop-iteration watchers stay: they only collect.

Each rule's gate is here too: `select`/`ignore` decide per rule, by the error code the
finding carries, and `per-path-ignores` and `tests` by the path of the file being analysed, so every
rule of the plugin honours them and no rule is switched by another's setting. Under plain
mypy a finding also gives way to the syntax engine's on the same line and problem
(`syntax_places`); `orm-lint check` merges the two engines itself, and reads what the check
knew (model, attribute, fix, ...) from a note attached to each finding, mypy's only channel
that survives its cache. Plain mypy shows no such note.
"""

from __future__ import annotations

import json
from typing import Any

from mypy.errorcodes import ErrorCode
from mypy.errors import IterationErrorWatcher
from mypy.nodes import FuncDef, TypeInfo

from ..config import Settings, ignored_in_file, rule_enabled
from ..findings import DETAILS_NOTE
from ..tests_scope import left_out_as_test
from .errorcodes import CODES, RULE_CODE_BY_ERROR_CODE
from .registry import TypeFinding
from .syntax_places import reported_by_syntax_engine

_settings = Settings()
_enabled: dict[str, bool] = {}  # mypy error code -> the rule is on
_defer_to_syntax = True  # plain mypy: flake8's plugin may report the same place


def use_settings(settings: Settings, defer_to_syntax: bool = True) -> None:
    """The settings the plugin loaded (one plugin per mypy process), and whether mypy runs on its own."""
    global _settings, _enabled, _defer_to_syntax
    _settings = settings
    _enabled = {error: rule_enabled(rule, settings) for error, rule in RULE_CODE_BY_ERROR_CODE.items()}
    _defer_to_syntax = defer_to_syntax


def _current_path(api: Any) -> str | None:
    """The file being analysed: the checker's `path`, or the semantic analyser's module."""
    return getattr(api, "path", None) or getattr(getattr(api, "cur_mod_node", None), "path", None)


def ignored_here(api: Any, code: ErrorCode) -> bool:
    if not _settings.per_path_ignores:
        return False
    path, rule_code = _current_path(api), RULE_CODE_BY_ERROR_CODE.get(code.code)
    return bool(path and rule_code and rule_code.startswith(ignored_in_file(path, _settings)))


def report(api: Any, finding: TypeFinding) -> None:
    """The finding, unless its rule is off in the project or in this file: the one gate of every rule."""
    code = CODES[finding.rule.code]
    if not _enabled.get(code.code, True) or ignored_here(api, code):
        return
    path = _current_path(api)
    if _defer_to_syntax and path and left_out_as_test(path, _settings):
        return  # plain mypy; under `orm-lint check` the run's own file list (and its --tests) decides
    if _defer_to_syntax and reported_by_syntax_engine(
        _current_path(api), finding.context.line, finding.rule.problem, _settings
    ):
        return  # one finding per place when flake8 runs beside mypy: flake8's
    errors = getattr(getattr(api, "msg", None), "errors", None)
    watchers = getattr(errors, "_watchers", None)
    if watchers:
        errors._watchers = [w for w in watchers if isinstance(w, IterationErrorWatcher)]
    try:
        error = api.fail(finding.message, finding.context, code=code)
        if not _defer_to_syntax:  # run by `orm-lint check`
            _attach_details(api, finding, code, error)
    finally:
        if watchers:
            errors._watchers = watchers


def _attach_details(api: Any, finding: TypeFinding, code: ErrorCode, error: Any) -> None:
    details = {
        "framework": finding.framework,
        "function": _enclosing_function(api),
        "model": finding.model,
        "attribute": finding.attribute,
        "operation": finding.operation,
        "fix": finding.fix,
    }
    text = DETAILS_NOTE + json.dumps({k: v for k, v in details.items() if v is not None}, sort_keys=True)
    msg = getattr(api, "msg", None)
    if msg is not None and error is not None:
        msg.note(text, finding.context, code=code, parent_error=error)  # kept and dropped with its error
    else:
        api.note(text, finding.context, code=code)


def _enclosing_function(api: Any) -> str | None:
    """`Class.method` or `function` around the hook's expression, as the syntax engine names it."""
    stack = getattr(getattr(api, "scope", None), "stack", None) or []
    names = [entry.name for entry in stack if isinstance(entry, (TypeInfo, FuncDef))]
    return ".".join(names) if names and isinstance(stack[-1], FuncDef) else None
