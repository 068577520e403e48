"""Reporting from hooks without changing mypy's own verdicts, and where the project allows it.

mypy tries alternatives (overload items, inference in several contexts) under error
watchers and rejects an alternative that produced an error. An orm-lint finding is a
fact about the code, not a type error, so it must not take part: it is reported with
the speculative watchers set aside. Loop-iteration watchers stay: they only collect.

Each rule's gate is here too: `select`/`ignore` decide per rule, by the error code the
finding carries, and `per-path-ignores` by the path of the file being analysed, so every
rule of the plugin honours them and no rule is switched by another's setting.
"""

from __future__ import annotations

from typing import Any

from mypy.errorcodes import ErrorCode
from mypy.errors import IterationErrorWatcher
from mypy.nodes import Context

from ..config import Settings, ignored_in_file, rule_enabled
from .errorcodes import CODES, RULE_CODE_BY_ERROR_CODE
from .registry import TypeFinding

_settings = Settings()
_enabled: dict[str, bool] = {}  # mypy error code -> the rule is on


def use_settings(settings: Settings) -> None:
    """The settings the plugin loaded (one plugin per mypy process)."""
    global _settings, _enabled
    _settings = settings
    _enabled = {error: rule_enabled(rule, settings) for error, rule in RULE_CODE_BY_ERROR_CODE.items()}


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
    _fail(api, finding.message, finding.context, code)


def _fail(api: Any, message: str, context: Context, code: ErrorCode) -> None:
    errors = getattr(getattr(api, "msg", None), "errors", None)
    watchers = getattr(errors, "_watchers", None)
    if not watchers:
        api.fail(message, context, code=code)
        return
    errors._watchers = [w for w in watchers if isinstance(w, IterationErrorWatcher)]
    try:
        api.fail(message, context, code=code)
    finally:
        errors._watchers = watchers
