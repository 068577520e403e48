"""The project's own rules (`[[tool.orm-lint.rules]]`): ast-grep patterns run on the source.

The file is parsed by ast-grep once, and only when a configured rule applies to it: a
project without rules of its own pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..catalogue import ConfiguredRule
from ..config import Settings, config_relative, path_matches
from .registry import Report


@dataclass(frozen=True)
class Span:
    """A place in the source with the attributes `ast` nodes have (1-based lines, byte columns)."""

    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


def applicable_rules(filename: str, settings: Settings) -> list[ConfiguredRule]:
    rules = settings.user_rules
    if not rules:
        return []
    relative = config_relative(filename, settings)
    return [rule for rule in rules if not rule.paths or path_matches(relative, rule.paths)]


def user_rule_reports(source: str, rules: Sequence[ConfiguredRule]) -> Iterator[Report]:
    """Every match of every rule; `$NAME` in a message gets the metavariable's text."""
    from ast_grep_py import SgRoot

    root = SgRoot(source, "python").root()
    lines = source.splitlines()

    def byte_column(line: int, column: int) -> int:  # ast-grep counts characters, `ast` bytes
        text = lines[line] if line < len(lines) else ""
        return len(text[:column].encode("utf-8"))

    for rule in rules:
        for match in root.find_all(rule.ast_grep_config):  # type: ignore[arg-type]
            start, end = match.range().start, match.range().end
            values = {}
            for name in rule.placeholders:
                single = match.get_match(name)
                several = match.get_multiple_matches(name)
                values[name] = single.text() if single is not None else ", ".join(n.text() for n in several)
            span = Span(
                start.line + 1, byte_column(start.line, start.column), end.line + 1, byte_column(end.line, end.column)
            )
            yield Report(rule, span, values)  # type: ignore[arg-type]
