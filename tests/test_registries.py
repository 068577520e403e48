"""Each catalogue rule is checked by the engine the catalogue names, and by that engine only."""

from __future__ import annotations

import orm_lint.flake8_plugin.checks  # noqa: F401  (registers the syntax checks)
import orm_lint.mypy_plugin.checks  # noqa: F401  (registers the type-aware checks)
from orm_lint.catalogue import RULES, Engine
from orm_lint.flake8_plugin.registry import CHECKS
from orm_lint.mypy_plugin.registry import TYPE_CHECKS, ModelMember


def test_every_rule_is_registered_in_exactly_one_engine_its_own() -> None:
    registered = {
        Engine.FLAKE8: {rule.code for check in CHECKS for rule in check.rules},
        Engine.MYPY: {rule.code for check in TYPE_CHECKS for rule in check.rules},
    }
    wrong = [
        (
            rule.code,
            rule.engine.value,
            sorted(engine.value for engine, codes in registered.items() if rule.code in codes),
        )
        for rule in RULES
        if [engine for engine, codes in registered.items() if rule.code in codes] != [rule.engine]
    ]
    assert wrong == []


def test_every_type_aware_check_names_its_rule_and_a_target() -> None:
    """A check is found by its hook and target only: an empty target would never run."""
    for check in TYPE_CHECKS:
        assert check.rules, check.function.__name__
        assert isinstance(check.target, ModelMember) or check.target, check.function.__name__
        assert check.function.__doc__ and check.rules[0].name in check.function.__doc__, check.function.__name__
