"""A finding: one rule reported at one place, the unit every output format writes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..catalogue import RULES_BY_CODE, Rule


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int  # 1-based, as editors and SARIF count
    end_line: int
    end_column: int
    code: str
    message: str
    engine: str

    @property
    def rule(self) -> Rule:
        return RULES_BY_CODE[self.code]

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        rule = self.rule
        data.update(
            name=rule.name,
            problem=rule.problem,
            category=rule.category.value,
            severity=rule.severity.value,
            priority=rule.severity.priority,
        )
        return data
