"""mypy error codes, one per catalogue rule of the mypy engine, under the umbrella `orm`.

`# type: ignore[orm-lazy-load-per-item]` and `--disable-error-code orm-lazy-load-per-item`
silence one rule; `orm` silences them all.
"""

from __future__ import annotations

from mypy.errorcodes import ErrorCode

from ..catalogue import RULES, Engine, Rule

ORM = ErrorCode("orm", "orm-lint: database and ORM problems", "ORM")
INTERNAL = ErrorCode("orm-internal", "orm-lint could not analyse something (a bug to report)", "ORM", sub_code_of=ORM)


def error_code_name(rule: Rule) -> str:
    return f"orm-{rule.name}"


CODES: dict[str, ErrorCode] = {
    rule.code: ErrorCode(error_code_name(rule), rule.summary, "ORM", sub_code_of=ORM)
    for rule in RULES
    if rule.engine is Engine.MYPY
}
RULE_CODE_BY_ERROR_CODE: dict[str, str] = {code.code: rule_code for rule_code, code in CODES.items()}
