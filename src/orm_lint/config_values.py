"""What every reader of settings shares: the error a bad value raises, and severities by name.

Below both `config.py` (the `[tool.orm-lint]` table) and `user_rules.py` (the rules a project
declares in it), so that neither has to import the other back.
"""

from __future__ import annotations

from typing import Any

from .catalogue import Severity


class ConfigError(Exception):
    """A setting that cannot be used; the message names the file and the key."""


def severity_named(value: Any, key: str, origin: str) -> Severity:
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise ConfigError(f"{origin}: `{key}` must be one of {names}; got {value!r}") from None
