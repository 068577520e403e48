"""The review's section "Indexes this code asks for": each index ORM306 advises, with every query that asks for it.

The findings say which index (the model, its columns, the fix); the query places behind each one are read
from the project index the analysis built and cached (nothing is parsed again when the cache is warm).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..catalogue.schema import QUERY_WITHOUT_INDEX
from ..findings import Finding
from ..project import index_for
from ..project.index import module_name

_KINDS = {"endpoint": "endpoint", "code": "application code", "task": "background job", "command": "command"}


def index_advice_lines(findings: Sequence[Finding]) -> list[str]:
    """The section's markdown lines; none when no index is advised."""
    advised = [f for f in findings if f.code == QUERY_WITHOUT_INDEX.code and f.model]
    if not advised:
        return []
    lines = [
        "## Indexes this code asks for",
        "",
        "Read from the project's own queries: each index below is asked for by queries that filter or sort by "
        "columns no existing index leads with (tests, migrations and admin code not counted). Check each one "
        "with `EXPLAIN` on production-sized data before adding it.",
        "",
    ]
    for finding in advised:
        lines += [
            f"### `{finding.model}` ({finding.attribute})",
            "",
            f"{finding.severity.value.capitalize()} severity, declared at `{finding.location}`.",
            "",
            "Queries that ask for it:",
            "",
            *(_place_line(place) for place in _places(finding)),
            "",
            f"Change: {finding.fix}." if finding.fix else "",
            "",
        ]
    return lines


def _place_line(place: list[Any]) -> str:
    path, line, function, kind = place
    where = f" in `{function}`" if function else ""
    return f"- `{path}:{line}`{where} ({_KINDS.get(str(kind), str(kind))})"


def _places(finding: Finding) -> list[list[Any]]:
    """Every place of the advice, paths as the findings show them; none when the index no longer holds it."""
    path = os.path.abspath(finding.path)
    project = index_for(path)
    if not project.root:
        return []
    module = module_name(project.root, path)
    columns = [c.strip() for c in (finding.attribute or "").split(",")]
    for model in project.candidates.get(str(finding.model), []):
        if model.module != module:
            continue
        for advice in model.asked_indexes:
            if advice["columns"] == columns:
                return [
                    [os.path.relpath(os.path.join(project.root, place[0])).replace(os.sep, "/"), *place[1:]]
                    for place in advice["places"]
                ]
    return []
