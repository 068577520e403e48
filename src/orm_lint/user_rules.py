"""`[[tool.orm-lint.rules]]`: a project's own rules, as ast-grep patterns.

Each table becomes a `ConfiguredRule` when the settings are read. Everything that can be
wrong with one (a pattern ast-grep rejects, a code outside ORM900-ORM999, a duplicate, a
missing field) is a ConfigError naming the file and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .catalogue import NAME_PATTERN, PROBLEMS, RULES, Docs, Engine, Severity
from .catalogue.configured import CATEGORY_OF_PROBLEM, ConfiguredRule, is_configured_code
from .catalogue.model import ALL_FRAMEWORKS
from .config_values import ConfigError, severity_named

# The problem a convention of the project reports when none of the shared vocabulary fits.
PROJECT_CONVENTION = "project_convention"
_PATTERN_METAVARIABLE = re.compile(r"\$(?:\$\$)?([A-Z_][A-Z0-9_]*)")
_MESSAGE_METAVARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


@dataclass(frozen=True)
class Field:
    """One field of a rule table, and its row in docs/configuration.md."""

    name: str
    type: str
    default: str
    description: str


FIELDS: tuple[Field, ...] = (
    Field("code", "`ORM900`–`ORM999`", "required", "Unique. Built-in rules never use this block."),
    Field("name", "kebab-case", "required", "Names the bad pattern (`objects-all-in-billing`); unique."),
    Field(
        "pattern",
        "ast-grep pattern",
        "this or `rule`",
        "Python code to find: `$NAME` matches one expression, `$$$NAME` any number of them.",
    ),
    Field(
        "rule",
        "table",
        "this or `pattern`",
        "A full ast-grep rule object (`pattern`, `kind`, `regex`, `inside`, `has`, `not`, `all`, `any`, ...).",
    ),
    Field("constraints", "table", "none", 'ast-grep constraints on metavariables: `{ K = { regex = "^user:" } }`.'),
    Field("message", "text", "required", "What is reported; `$NAME` becomes the text the metavariable matched."),
    Field("severity", "critical, high, medium or low", "medium", "The `severity` table can still override it."),
    Field(
        "problem",
        "problem name",
        f"`{PROJECT_CONVENTION}`",
        f"One of {', '.join(f'`{p}`' for p in sorted(PROBLEMS))}, or `{PROJECT_CONVENTION}`.",
    ),
    Field("paths", "list of globs", "every file", "Files the rule applies to, matched like `per-path-ignores`."),
    Field("summary", "text", "the message", "One line for `orm-lint rules`."),
    Field("why", "text", "none", "Why it is bad: shown by `orm-lint explain`, SARIF and the report."),
    Field("fix", "text", "none", "How to fix it: shown with `why`."),
)
_FIELD_NAMES = frozenset(f.name for f in FIELDS)
_BUILT_IN_NAMES = frozenset(rule.name for rule in RULES)


def _cause(error: Exception) -> str:
    """ast-grep's own explanation: the last `Caused by` line, without the backtrace."""
    text = str(error).split("Stack backtrace:")[0]
    causes = [line.split(":", 1)[1].strip() for line in text.splitlines() if re.match(r"^\s+\d+: ", line)]
    return causes[-1] if causes else text.strip().splitlines()[0]


def _text(table: dict[str, Any], field: str, label: str, required: bool = False) -> str | None:
    value = table.get(field)
    if value is None:
        if required:
            raise ConfigError(f"{label}: `{field}` is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{label}: `{field}` must be a non-empty string, got {value!r}")
    return value.strip()


def _table(table: dict[str, Any], field: str, label: str) -> dict[str, Any] | None:
    value = table.get(field)
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{label}: `{field}` must be a table, got {value!r}")
    return value


def _check_with_ast_grep(rule: ConfiguredRule, label: str) -> None:
    """Compile the rule once; ast-grep checks the pattern, the rule object and the constraints."""
    try:
        from ast_grep_py import SgRoot
    except ImportError:
        raise ConfigError(
            f"{label}: rules in the configuration need the ast-grep-py package (pip install 'orm-lint[rules]')"
        ) from None
    if rule.pattern is not None:
        # ast-grep recovers from a pattern that is not Python and then silently matches nothing.
        pattern_tree = SgRoot(rule.pattern.replace("$", "µ"), "python").root()
        if pattern_tree.has(kind="ERROR"):
            raise ConfigError(f"{label}: `pattern` is not valid Python: {rule.pattern!r}")
    try:
        SgRoot("", "python").root().find_all(rule.ast_grep_config)  # type: ignore[arg-type]
    except Exception as error:  # ast-grep raises RuntimeError or a plain Exception from its config reader
        field = "pattern" if rule.pattern is not None else "rule"
        raise ConfigError(f"{label}: ast-grep rejects `{field}`: {_cause(error)}") from None


def _parse_rule(table: dict[str, Any], label: str, origin: str) -> ConfiguredRule:
    unknown = sorted(set(table) - _FIELD_NAMES)
    if unknown:
        raise ConfigError(f"{label}: unknown fields {', '.join(unknown)} (known: {', '.join(sorted(_FIELD_NAMES))})")
    code = str(_text(table, "code", label, required=True)).upper()
    if not is_configured_code(code):
        raise ConfigError(f"{label}: `code` must be in the block reserved for project rules, ORM900-ORM999")
    name = str(_text(table, "name", label, required=True))
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"{label}: `name` must be kebab-case naming the bad pattern, got {name!r}")
    if name in _BUILT_IN_NAMES:
        raise ConfigError(f"{label}: `name` {name!r} is the name of a built-in rule")
    pattern = _text(table, "pattern", label)
    matcher = _table(table, "rule", label)
    if (pattern is None) == (matcher is None):
        raise ConfigError(f"{label}: give exactly one of `pattern` and `rule`")
    message = str(_text(table, "message", label, required=True))
    if pattern is not None:
        defined = set(_PATTERN_METAVARIABLE.findall(pattern))
        undefined = sorted(set(_MESSAGE_METAVARIABLE.findall(message)) - defined)
        if undefined:
            raise ConfigError(f"{label}: `message` uses {', '.join('$' + v for v in undefined)}, not in the pattern")
    problem = _text(table, "problem", label) or PROJECT_CONVENTION
    if problem not in PROBLEMS and problem != PROJECT_CONVENTION:
        raise ConfigError(f"{label}: `problem` must be one of {', '.join(sorted(PROBLEMS))}, {PROJECT_CONVENTION}")
    paths = table.get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError(f"{label}: `paths` must be a list of globs, got {paths!r}")
    severity = severity_named(table["severity"], "severity", label) if "severity" in table else Severity.MEDIUM
    why, fix = _text(table, "why", label), _text(table, "fix", label)
    shown = f"`{pattern}`" if pattern is not None else "its ast-grep rule"
    rule = ConfiguredRule(
        code=code,
        name=name,
        problem=problem,
        category=CATEGORY_OF_PROBLEM.get(problem, CATEGORY_OF_PROBLEM["sql_semantics"]),
        severity=severity,
        frameworks=ALL_FRAMEWORKS,
        engine=Engine.FLAKE8,
        summary=_text(table, "summary", label) or message,
        message=message,
        docs=Docs(
            what_it_does=f"A rule of this project (declared in {origin}): reports code matching {shown}.",
            why_bad=why or "The project's own convention; see `why` in its declaration.",
            fix_steps=(fix,) if fix else ("Change the code as the message says.",),
            how_to_test="Run `orm-lint check --no-mypy` (or flake8) on the file again: the finding is gone.",
        ),
        bad_example="",
        good_example="",
        pattern=pattern,
        matcher=matcher,
        constraints=_table(table, "constraints", label),
        paths=tuple(paths),
        declared_in=origin,
    )
    _check_with_ast_grep(rule, label)
    return rule


def parse_user_rules(value: Any, key: str, origin: str) -> tuple[ConfiguredRule, ...]:
    """Every rule of `[[tool.orm-lint.rules]]`, checked; raises ConfigError naming the rule."""
    if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
        raise ConfigError(
            f"{origin}: `{key}` must be an array of tables ([[tool.orm-lint.rules]] in pyproject.toml), got {value!r}"
        )
    rules: list[ConfiguredRule] = []
    for number, table in enumerate(value, 1):
        label = f"{origin}: rule {table.get('code') or f'#{number}'}"
        if "name" in table:
            label += f" ({table['name']})"
        rule = _parse_rule(table, label, origin)
        for earlier in rules:
            if earlier.code == rule.code or earlier.name == rule.name:
                field = "code" if earlier.code == rule.code else "name"
                raise ConfigError(f"{label}: duplicate `{field}`, already used by rule {earlier.code} ({earlier.name})")
        rules.append(rule)
    return tuple(rules)
