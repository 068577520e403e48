"""Type-aware checks register themselves next to their rule, as `@check` does for flake8.

A check says which rules it reports, which mypy hook it needs and on what target (a set of
fullnames, or a member of any model class); `main.OrmLintPlugin` only looks registered checks
up by hook and fullname, chains them with the plugins after it, and reports what they yield
through one gate per finding's rule (`reporting.report`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mypy.nodes import Context

from ..catalogue import Rule
from ..config import Settings
from .function_map import FunctionMap


class Hook(enum.Enum):
    """The mypy plugin hooks a check can ask for (the value is the `Plugin` method that gives it)."""

    ATTRIBUTE = "get_attribute_hook"  # `obj.attr` read or written: AttributeContext
    CLASS_ATTRIBUTE = "get_class_attribute_hook"  # `Model.attr`: AttributeContext
    METHOD = "get_method_hook"  # `obj.method(...)`: MethodContext
    FUNCTION = "get_function_hook"  # `function(...)`: FunctionContext


@dataclass(frozen=True)
class ModelMember:
    """A target matched through its owner: any attribute of a model class, or only the one called `name`."""

    name: str | None = None


ANY_MODEL_ATTRIBUTE = ModelMember()
Target = frozenset[str] | ModelMember


@dataclass(frozen=True)
class TypeFinding:
    """A rule's finding at a node of mypy's tree, with what the check knew there."""

    rule: Rule
    message: str
    context: Context
    framework: str | None = None
    model: str | None = None
    attribute: str | None = None  # the relation or column involved
    operation: str | None = None
    fix: str | None = None


class HookCall:
    """What a check is given: mypy's hook context, the fullname hooked, the settings, the current function."""

    def __init__(
        self, ctx: Any, fullname: str, settings: Settings, function_map: Callable[[], FunctionMap | None]
    ) -> None:
        self.ctx = ctx
        self.fullname = fullname
        self.settings = settings
        self._function_map = function_map

    @cached_property
    def function(self) -> FunctionMap | None:
        """The map of the function being checked (cached by the plugin across hooks), None at module level."""
        return self._function_map()


CheckFunction = Callable[[HookCall], Iterable[TypeFinding]]


@dataclass(frozen=True, eq=False)
class TypeCheck:
    rules: tuple[Rule, ...]
    function: CheckFunction
    hook: Hook
    target: Target
    # The check looks at the whole current function: it runs on the first matching hook of each function only.
    once_per_function: bool = False
    # The check needs a setting (an opt-in rule's column, say): it is registered but not hooked without it.
    active: Callable[[Settings], bool] | None = None


TYPE_CHECKS: list[TypeCheck] = []


def type_check(
    *rules: Rule,
    hook: Hook,
    target: Target,
    once_per_function: bool = False,
    active: Callable[[Settings], bool] | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check that reports the given rules from `hook` on `target` (stack it for more hooks)."""

    def register(function: CheckFunction) -> CheckFunction:
        TYPE_CHECKS.append(TypeCheck(rules, function, hook, target, once_per_function, active))
        return function

    return register
