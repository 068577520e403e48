"""Rules a project declares in its configuration (`[[tool.orm-lint.rules]]`): ast-grep patterns.

They are real `Rule`s, so every reader of the catalogue (`orm-lint rules`, the report,
SARIF) treats them like built-in ones; the extra fields say what to match and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import Category, Rule

# Codes projects may give their own rules; built-in rules never use this block.
CONFIGURED_BLOCK = range(900, 1000)
# Which category a configured rule falls in follows from the problem it reports.
CATEGORY_OF_PROBLEM = {
    "n_plus_one": Category.PERFORMANCE,
    "query_in_loop": Category.PERFORMANCE,
    "unbounded_query": Category.PERFORMANCE,
    "queryset_evaluation": Category.PERFORMANCE,
    "raw_sql": Category.SECURITY,
    "tenant_isolation": Category.SECURITY,
    "fk_no_index": Category.SCHEMA,
    "unsafe_migration": Category.MIGRATIONS,
    "sql_semantics": Category.CORRECTNESS,
    "raising_lazy_load": Category.CORRECTNESS,
}
_METAVARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


@dataclass(frozen=True, kw_only=True)
class ConfiguredRule(Rule):
    """A rule from configuration: an ast-grep `pattern` (or a full ast-grep `rule` object)."""

    pattern: str | None = None
    matcher: dict[str, Any] | None = None  # an ast-grep rule object, instead of `pattern`
    constraints: dict[str, Any] | None = None  # ast-grep constraints on metavariables
    paths: tuple[str, ...] = ()  # globs of the files it applies to (all when empty)
    declared_in: str = ""  # the configuration file

    @property
    def ast_grep_config(self) -> dict[str, Any]:
        """The argument `SgNode.find_all()` takes."""
        config: dict[str, Any] = {"rule": self.matcher if self.matcher is not None else {"pattern": self.pattern}}
        if self.constraints:
            config["constraints"] = self.constraints
        return config

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_METAVARIABLE.findall(self.message))

    def format_message(self, **values: object) -> str:
        """`$NAME` in the message becomes the text the metavariable matched; braces stay literal."""
        return _METAVARIABLE.sub(lambda m: str(values.get(m.group(1), m.group(0))), self.message)


def is_configured_code(code: str) -> bool:
    return code.startswith("ORM") and code[3:].isdigit() and int(code[3:]) in CONFIGURED_BLOCK
