"""What the engines produce and every output reads, so it sits below both: a finding (one rule at one place,
with what the engine knew there), a file that could not be read, and a good pattern counted in the code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .catalogue import RULES_BY_CODE, Rule, Severity

# What the engine knew at the place, beyond the message: optional, written once, read by every output.
DETAILS = ("framework", "function", "model", "attribute", "operation", "fix", "table_created_in")
# The mypy plugin, run by `orm-lint check`, attaches the details to each finding as a note: this, then JSON.
DETAILS_NOTE = "orm-lint details: "


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int  # in a notebook: the line within the cell
    column: int  # 1-based, as editors and SARIF count
    end_line: int
    end_column: int
    code: str
    message: str
    engine: str
    cell: int | None = None  # a notebook's cell (1-based position in the notebook), else None
    lowered_by: int = 0  # levels below the rule's severity that this site warrants
    # The framework of the code at the place: django, sqlalchemy, sqlmodel, flask-sqlalchemy or dbapi.
    framework: str | None = field(default=None, compare=False)
    function: str | None = field(default=None, compare=False)  # the enclosing function or endpoint, qualified
    model: str | None = field(default=None, compare=False)  # the model the finding is about
    attribute: str | None = field(default=None, compare=False)  # its relation or column involved
    operation: str | None = field(default=None, compare=False)  # the ORM call at fault (`save`, `count`, ...)
    fix: str | None = field(default=None, compare=False)  # the concrete change, as the message says it
    # A migration finding's table was created (for a dropped or renamed column: the column added) by this migration
    # of the same folder, by file name: when both came in one release, it is left out (migration_scope).
    table_created_in: str | None = field(default=None, compare=False)

    @property
    def severity(self) -> Severity:
        """The rule's severity (with the project's overrides), lowered for what this site shows."""
        return self.rule.severity.lowered(self.lowered_by)

    @property
    def rule(self) -> Rule:
        return RULES_BY_CODE[self.code]

    @property
    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.path, self.cell or 0, self.line, self.column, self.code, self.message)

    @property
    def location(self) -> str:
        """`path:line`, or `notebook.ipynb:cell 3:2` in a notebook."""
        cell = f":cell {self.cell}" if self.cell is not None else ""
        return f"{self.path}{cell}:{self.line}"

    @property
    def details(self) -> dict[str, str]:
        """The structure the engine knew, only what it knew."""
        return {name: value for name in DETAILS if (value := getattr(self, name)) is not None}

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        if self.cell is None:
            del data["cell"]  # only notebook findings have a cell
        del data["lowered_by"]  # `severity` says it
        rule = self.rule
        data.update(
            name=rule.name,
            problem=rule.problem,
            category=rule.category.value,
            severity=self.severity.value,
            priority=self.severity.priority,
        )
        return data


@dataclass(frozen=True, order=True)
class FileProblem:
    """A file that could not be analysed: it is reported, and the run goes on."""

    path: str
    message: str


# kind -> (title, what exactly is counted): the report prints both.
PATTERNS: dict[str, tuple[str, str]] = {
    "eager_loaded_loop": (
        "Eager-loaded loops",
        "loops and comprehensions over a query that loads its relations up front "
        "(`select_related`, `prefetch_related`, `.options(joinedload/selectinload ...)`)",
    ),
    "indexed_foreign_key": (
        "Indexed foreign keys",
        "foreign keys whose declaration comes with an index: Django `ForeignKey`/`OneToOneField` "
        "(indexed unless `db_index=False`), `mapped_column`/`Column`/`Field` with `index=True`, "
        "`unique=True` or `primary_key=True`; indexes declared in `__table_args__` or `Meta.indexes` "
        "are not counted",
    ),
    "parameterized_sql": (
        "Parameterized SQL",
        "raw SQL calls (`execute`, `executemany`, `raw`, `exec_driver_sql`, `RawSQL`) whose SQL text "
        "is a constant and whose values are passed separately as bound parameters",
    ),
    "bounded_endpoint": (
        "Paginated or limited endpoints",
        "list endpoints that bound the rows they read (`Paginator`, `paginate()`, `.limit()`, a slice, "
        "a `ListView` with `paginate_by`) and have no unbounded-read finding",
    ),
}


@dataclass(frozen=True, order=True)
class GoodPattern:
    kind: str
    path: str
    line: int
    cell: int | None = None
    end_line: int = 0  # the last line of the code it stands for (a loop, an endpoint): a finding there spoils it

    def holds(self, path: str, cell: int | None, line: int) -> bool:
        """Whether the place `path`, `cell`, `line` lies in the code this pattern stands for."""
        return path == self.path and cell == self.cell and self.line <= line <= max(self.line, self.end_line)

    @property
    def location(self) -> str:
        cell = f":cell {self.cell}" if self.cell is not None else ""
        return f"{self.path}{cell}:{self.line}"
