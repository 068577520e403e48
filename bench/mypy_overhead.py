#!/usr/bin/env python3
"""What orm-lint's mypy plugin adds to mypy's own time, cold and warm, measured in one run.

For a project folder, runs mypy several times with the project's own plugins (baseline)
and with `orm_lint.mypy_plugin` put first (orm-lint), each with a cold cache (a fresh
cache folder) and warm (the same command again on an unchanged tree). Prints medians and
the ratios orm-lint / baseline, and writes them as JSON.

    python bench/mypy_overhead.py PROJECT [--config FILE] [--runs 3] [--target PATH ...]

The project's mypy configuration is copied with `$MYPY_CONFIG_FILE_DIR` expanded, exactly
as `orm-lint check` does; only the `plugins` line differs between the two variants.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from orm_lint.mypy_engine import _sections, find_mypy_config, with_orm_lint_plugin  # noqa: E402


def write_config(sections: dict[str, dict[str, str]], path: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    for name, values in sections.items():
        parser[name] = values
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle)


def timed_mypy(config: Path, cache: Path, targets: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache), *targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPY_FORCE_COLOR": "0"},
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"mypy failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--config", type=Path, help="mypy configuration (default: found as mypy finds it)")
    parser.add_argument("--target", action="append", help="what to check (default: .)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="where to write the results (default: bench/results/)")
    args = parser.parse_args()
    project = args.project.resolve()
    config = args.config.resolve() if args.config else find_mypy_config(project)
    base = _sections(config)
    baseline_sections = {name: dict(values) for name, values in base.items()}
    plugins = [p.strip() for p in baseline_sections["mypy"].get("plugins", "").split(",") if p.strip()]
    baseline_sections["mypy"]["plugins"] = ", ".join(p for p in plugins if not p.startswith("orm_lint"))
    ormlint_sections = with_orm_lint_plugin({name: dict(values) for name, values in base.items()})
    targets = args.target or ["."]
    results: dict[str, list[float]] = {
        "baseline_cold": [],
        "orm_lint_cold": [],
        "baseline_warm": [],
        "orm_lint_warm": [],
    }
    with tempfile.TemporaryDirectory(prefix="orm-lint-bench-") as scratch:
        folder = Path(scratch)
        configs = {"baseline": folder / "baseline.ini", "orm_lint": folder / "orm_lint.ini"}
        write_config(baseline_sections, configs["baseline"])
        write_config(ormlint_sections, configs["orm_lint"])
        for run in range(args.runs):
            for variant in ("baseline", "orm_lint"):  # interleaved, so drift affects both alike
                cache = folder / f"cache-{variant}-{run}"
                results[f"{variant}_cold"].append(timed_mypy(configs[variant], cache, targets, project))
                results[f"{variant}_warm"].append(timed_mypy(configs[variant], cache, targets, project))
                shutil.rmtree(cache, ignore_errors=True)
    medians = {key: statistics.median(values) for key, values in results.items()}
    ratios = {
        "cold": medians["orm_lint_cold"] / medians["baseline_cold"],
        "warm": medians["orm_lint_warm"] / medians["baseline_warm"],
    }
    files = sum(1 for _ in project.rglob("*.py"))
    print(f"project: {project} ({files} .py files), config: {config}, runs: {args.runs}")
    print(f"{'':10} {'baseline':>10} {'orm-lint':>10} {'ratio':>8}")
    for kind in ("cold", "warm"):
        print(
            f"{kind:10} {medians[f'baseline_{kind}']:>9.2f}s {medians[f'orm_lint_{kind}']:>9.2f}s {ratios[kind]:>8.3f}"
        )
    output = args.json or Path(__file__).resolve().parent / "results" / f"mypy_overhead-{project.name}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "project": str(project),
                "files": files,
                "runs": results,
                "medians": medians,
                "ratios": ratios,
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
