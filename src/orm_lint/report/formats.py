"""Writing findings: text (flake8-like lines) and JSON (the contract other tools read).

A notebook finding reads `notebook.ipynb:cell 3:2:5: ORM101 ...` in text; in JSON it has
a `cell` (the cell's 1-based position in the notebook) and `line` counts within that cell.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from .. import __version__
from ..catalogue import Severity
from .findings import Finding

JSON_VERSION = 1


def render_text(findings: Sequence[Finding], problems: Sequence[object], files: int) -> str:
    lines = [f"{f.location}:{f.column}: {f.code} {f.message}" for f in findings]
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    noun = "finding" if len(findings) == 1 else "findings"
    lines.append(f"orm-lint: {len(findings)} {noun} in {files} files" + (f" ({summary})" if summary else ""))
    return "\n".join(lines)


def render_json(
    findings: Sequence[Finding],
    problems: Sequence[object],
    files: int,
    engines: Sequence[str],
    mypy_errors: int = 0,
    migrations_not_reviewed: int = 0,
) -> str:
    data = {
        "version": JSON_VERSION,
        "tool": {"name": "orm-lint", "version": __version__},
        "engines": list(engines),
        "files": files,
        "findings": [f.as_json() for f in findings],
        "errors": [{"path": p.path, "message": p.message} for p in problems],  # type: ignore[attr-defined]
        "summary": {
            "findings": len(findings),
            "by_severity": {s.value: sum(1 for f in findings if f.severity is s) for s in Severity},
            "mypy_errors_not_reported": mypy_errors,
            "migrations_not_reviewed": migrations_not_reviewed,
        },
    }
    return json.dumps(data, indent=2)
