"""The shared acceptance corpus, scored by its own tool on the syntax-level pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

SCORER = SHARED / "tools" / "acceptance_score.py"
pytestmark = pytest.mark.skipif(not SCORER.is_file(), reason=f"acceptance corpus not found at {SHARED}")


def _score(*args: str) -> dict[str, float]:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [sys.executable, str(SCORER), "--json", "--no-mypy", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_syntax_decidable_entries_are_found_without_false_alarms() -> None:
    score = _score("--types", "no", "--problems", "n_plus_one,query_in_loop,raw_sql,unbounded_query")
    assert score["recall"] >= 0.9
    assert score["fp"] == 0


def test_no_false_alarm_anywhere_in_the_corpus() -> None:
    score = _score()
    assert score["fp"] == 0
