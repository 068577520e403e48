"""Where the syntax engine reports a problem in the file mypy is checking.

A team that runs flake8 and mypy side by side must see one finding per place, as `orm-lint check`
shows once it has merged the two engines. Plain mypy cannot merge, so its plugin stays silent where
flake8's plugin reports the same problem on the same line (ORM102 and ORM110 on one relation load).
The syntax checks run once per file, and only for a file where the plugin has a finding to give.
"""

from __future__ import annotations

import ast
import os

from ..config import Settings, rule_enabled
from ..files import read_source

# path -> (its mtime and size when read, the (line, problem) pairs the syntax engine reports there)
_PLACES: dict[str, tuple[tuple[int, int], frozenset[tuple[int, str]]]] = {}


def reported_by_syntax_engine(path: str | None, line: int, problem: str, settings: Settings) -> bool:
    if not path:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    stamp = (stat.st_mtime_ns, stat.st_size)  # a daemon (dmypy) sees edits
    known = _PLACES.get(path)
    if known is None or known[0] != stamp:
        known = _PLACES[path] = (stamp, _syntax_places(path, settings))
    return (line, problem) in known[1]


def _syntax_places(path: str, settings: Settings) -> frozenset[tuple[int, str]]:
    # Imported on the first finding only: the syntax checks cost ~0.2 s to import, a warm mypy run ~0.3 s.
    from ..flake8_plugin.analysis import analyze

    try:
        with open(path, "rb") as handle:
            tree = ast.parse(read_source(handle.read()), filename=path)
        reports = analyze(tree, path, settings)
    except Exception:  # a file flake8 cannot read or analyse: flake8 reports nothing there either
        return frozenset()
    return frozenset(
        (getattr(r.node, "lineno", 0), r.rule.problem) for r in reports if rule_enabled(r.rule.code, settings)
    )
