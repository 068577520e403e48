"""What orm-lint adds to an editor's one-file flake8 run, with the project index warm.

Usage:
    python bench/editor_single_file.py TREE [FILE] [--reps 15]

Editors lint the buffer's file on every save: `flake8 FILE`. With orm-lint the plugin also
needs the project index (every model of the project). The index is cached by content, so after
the first run a one-file run only walks the project and stats its files. This script warms the
index once, then alternates `flake8 --isolated --jobs 1 FILE` with the plugin off and on (the
launcher of bench/flake8_overhead.py, which hides the entry point in the `off` process) and
prints the medians and their difference. Target: on - off <= 100 ms.

FILE defaults to the largest file of TREE that imports a `models` module (a view or a service:
the file an editor has open when the index matters).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bytecode_as_installed, discover, environment, write_results  # noqa: E402
from flake8_overhead import RUNNER, timed_run  # noqa: E402

TARGET_MS = 100.0
_IMPORTS_MODELS = re.compile(r"^from [\w.]*models import|^from [\w.]+ import models", re.MULTILINE)


def default_file(tree: Path) -> Path:
    candidates = [p for p in discover(tree) if _IMPORTS_MODELS.search(p.read_text(encoding="utf-8", errors="replace"))]
    if not candidates:
        raise SystemExit(f"no file under {tree} imports a models module; name one")
    return max(candidates, key=lambda p: p.stat().st_size)


def command(mode: str, file: Path) -> list[str]:
    return [sys.executable, "-c", RUNNER, mode, "--isolated", "--jobs", "1", "--select", "ORM,E,F,W", str(file)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("file", type=Path, nargs="?")
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    bytecode_as_installed()
    file = (args.file or default_file(args.tree)).resolve()
    with tempfile.TemporaryDirectory(prefix="orm-lint-editor-") as scratch:
        os.environ["XDG_CACHE_HOME"] = str(Path(scratch) / "cache")
        cold, _, proc, _ = timed_run(command("on", file), Path(scratch))
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr)
        for mode in ("off", "on"):  # untimed: the bytecode of both variants is written (see bytecode_as_installed)
            timed_run(command(mode, file), Path(scratch))
        samples: dict[str, list[float]] = {"off": [], "on": []}
        cpu: dict[str, list[float]] = {"off": [], "on": []}
        for rep in range(args.reps):
            for mode in ("off", "on") if rep % 2 == 0 else ("on", "off"):
                wall, used, _, _ = timed_run(command(mode, file), Path(scratch))
                samples[mode].append(wall)
                cpu[mode].append(used)
    off, on = statistics.median(samples["off"]), statistics.median(samples["on"])
    added_ms = (on - off) * 1000
    added_cpu_ms = (statistics.median(cpu["on"]) - statistics.median(cpu["off"])) * 1000
    print(f"file: {file} ({len(discover(args.tree))} files in the tree)")
    print(f"first run with the plugin (cold index): {cold * 1000:.0f} ms")
    print(f"flake8 without orm-lint: median {off * 1000:.0f} ms")
    print(f"flake8 with orm-lint (warm index): median {on * 1000:.0f} ms")
    verdict = "met" if added_ms <= TARGET_MS else "NOT met"
    print(f"orm-lint adds {added_ms:.0f} ms (target <= {TARGET_MS:.0f} ms): {verdict}")
    print(f"CPU (user + system): orm-lint adds {added_cpu_ms:.0f} ms; load average {os.getloadavg()[0]:.1f}")
    write_results(
        f"editor-{args.tree.name}",
        {
            "environment": environment(),
            "file": str(file),
            "cold": cold,
            "samples": samples,
            "cpu": cpu,
            "added_ms": added_ms,
            "added_cpu_ms": added_cpu_ms,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
