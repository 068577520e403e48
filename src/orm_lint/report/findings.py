"""A finding: one rule reported at one place, the unit every output format writes; and a file that could not be read."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..catalogue import RULES_BY_CODE, Rule, Severity


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
