"""The shape of a rule: pure data, read by every engine, the docs and the report."""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass, field


class Severity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def priority(self) -> str:
        """The P0–P3 label a review report uses."""
        return f"P{list(Severity).index(self)}"

    def lowered(self, steps: int) -> Severity:
        """This severity `steps` levels lower (never below low): a finding that is less sure or less costly."""
        order = list(Severity)
        return order[min(order.index(self) + max(steps, 0), len(order) - 1)]


class Category(enum.Enum):
    PERFORMANCE = "performance"
    SECURITY = "security"
    SCHEMA = "schema"
    MIGRATIONS = "migrations"
    CORRECTNESS = "correctness"


# Each category owns a block of a hundred codes, so a code tells its category.
CATEGORY_BLOCKS = {
    Category.PERFORMANCE: 100,
    Category.SECURITY: 200,
    Category.SCHEMA: 300,
    Category.MIGRATIONS: 400,
    Category.CORRECTNESS: 500,
}


class Engine(enum.Enum):
    FLAKE8 = "flake8"
    MYPY = "mypy"


class Framework(enum.Enum):
    DJANGO = "django"
    SQLALCHEMY = "sqlalchemy"
    SQLMODEL = "sqlmodel"
    FLASK_SQLALCHEMY = "flask_sqlalchemy"


ALL_FRAMEWORKS = tuple(Framework)
SQLALCHEMY_FAMILY = (Framework.SQLALCHEMY, Framework.SQLMODEL, Framework.FLASK_SQLALCHEMY)

# The problem vocabulary other tools (the acceptance scorer, dashboards) rely on.
PROBLEMS = frozenset(
    {
        "n_plus_one",
        "query_in_loop",
        "raw_sql",
        "unbounded_query",
        "fk_no_index",
        "queryset_evaluation",
        "sql_semantics",
        "unsafe_migration",
        "raising_lazy_load",
        "tenant_isolation",
        "non_unique_lookup",
        "float_money",
        "unfiltered_write",
        "unguarded_first_row",
        "connection_per_request",
        "stale_connection",
        "json_key_no_index",
        "missing_index",
    }
)

CODE_PATTERN = re.compile(r"^ORM[1-9]\d\d$")
NAME_PATTERN = re.compile(r"^[a-z]+(-[a-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True)
class Docs:
    """The sections a rule's page has, in the order users read them."""

    what_it_does: str
    why_bad: str
    fix_steps: tuple[str, ...]
    how_to_test: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Example:
    """A bad and a good version of the same code in one framework; the report shows the one that fits a finding."""

    framework: Framework
    bad: str
    good: str
    operation: str = ""  # the per-item call it shows (`save`, `count`), for findings about that call; "" for any


# Modules whose import makes an example SQLAlchemy code; the others use Django's `Model.objects`.
_SQLALCHEMY_IMPORT = re.compile(r"^(?:from|import) (?:sqlalchemy|sqlmodel|flask_sqlalchemy|alembic)\b", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule, declared once; engines, docs, `orm-lint rules` and the report read it."""

    code: str
    name: str
    problem: str
    category: Category
    severity: Severity
    frameworks: tuple[Framework, ...]
    engine: Engine
    summary: str
    message: str
    docs: Docs
    bad_example: str
    good_example: str
    # Examples are linted as a file of this name, so path-dependent rules can be shown.
    example_filename: str = "example.py"
    # `[tool.orm-lint]` lines an opt-in rule needs for its examples (and users) to see it.
    example_settings: str = ""
    message_defaults: dict[str, str] = field(default_factory=dict)
    # Pairs for the other framework, or for one per-item call (`save` -> `bulk_update`), beside the main pair.
    more_examples: tuple[Example, ...] = ()

    @property
    def examples(self) -> tuple[Example, ...]:
        """Every example pair, the main one (`bad_example`/`good_example`) first."""
        sqlalchemy = _SQLALCHEMY_IMPORT.search(self.bad_example + self.good_example)
        main = Example(
            framework=Framework.SQLALCHEMY if sqlalchemy else Framework.DJANGO,
            bad=self.bad_example,
            good=self.good_example,
        )
        return (main, *self.more_examples)

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.message) if name)

    def format_message(self, **values: object) -> str:
        """The finding text without the code: the template filled at one place."""
        return self.message.format(**{**self.message_defaults, **values})

    @property
    def fix_template(self) -> str | None:
        """The template's closing clause, the change to make (`add select_related({path}) ...`); every built-in
        rule's message ends with one, after its last `; `."""
        _, separator, clause = self.message.rpartition("; ")
        return clause if separator else None

    def format_fix(self, **values: object) -> str | None:
        """The concrete fix at one place: the fix clause filled with the same values as the message."""
        template = self.fix_template
        return template.format(**{**self.message_defaults, **values}) if template else None
