"""Reporting from check-time hooks without changing mypy's own verdicts.

mypy tries alternatives (overload items, inference in several contexts) under error
watchers and rejects an alternative that produced an error. An orm-lint finding is a
fact about the code, not a type error, so it must not take part: it is reported with
the speculative watchers set aside. Loop-iteration watchers stay: they only collect.
"""

from __future__ import annotations

from typing import Any

from mypy.errorcodes import ErrorCode
from mypy.errors import IterationErrorWatcher
from mypy.nodes import Context


def report(api: Any, message: str, context: Context, code: ErrorCode) -> None:
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
