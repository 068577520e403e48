"""The review's good patterns are counted on the syntax engine's one walk, and kept in the results cache with
the findings: a second `orm-lint report` on an unchanged tree reads them back instead of parsing again."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

EXAMPLES = ROOT / "examples"


def _review(out: Path, cache: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "report", ".", "--no-mypy", "--output", str(out)],
        capture_output=True,
        text=True,
        cwd=EXAMPLES,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        timeout=600,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return (out / f"database-review-{datetime.date.today().isoformat()}.md").read_text(encoding="utf-8")


def test_good_patterns_come_back_from_the_results_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _review(tmp_path / "cold", cache)
    assert any((cache / "orm-lint" / "results").rglob("*.json")), "the first run filled the cache"
    warm = _review(tmp_path / "warm", cache)
    assert "| Eager-loaded loops | 3 |" in cold and "`bookshop/services.py:18`" in cold
    assert warm == cold
