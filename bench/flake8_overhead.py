"""What orm-lint costs inside flake8, and what `orm-lint check` costs next to a bare parse.

Usage:
    python bench/flake8_overhead.py TREE [--reps 5] [--flake8-reps N] [--name NAME]
    python bench/flake8_overhead.py --synthetic 500 [--reps 5]

Measurements (each repeated, medians reported; every timing is time.perf_counter around the work):

(a) `flake8 --isolated --jobs 1 TREE` with the orm-lint plugin NOT loaded,
(b) the same command with the plugin loaded; the headline figure is median(b) / median(a).

How the plugin is turned off in the same environment. flake8 has no switch that keeps a
plugin from running: `--select`/`--ignore`/`--extend-ignore` only filter the *reports* (every
registered tree plugin still runs on every file), `--require-plugins` only checks presence,
and `--enable-extensions` only applies to plugins that declare `off_by_default`, which ours
does not. So both variants run the same tiny launcher in a fresh interpreter,
`python -c RUNNER on|off <flake8 args>`; in `off` mode the launcher wraps
`flake8.plugins.finder.find_plugins` (the one function flake8 uses to discover plugins) and
drops the entry points whose target lives in `orm_lint`, then calls `flake8.main.cli.main`.
Everything else (interpreter start, flake8 import, pycodestyle/pyflakes/mccabe, file
discovery, output) is identical, and in `off` mode orm_lint is never imported, so the
difference b - a is the full price a user pays for installing the plugin (import, checks,
report formatting). Before timing, the script checks with `--bug-report` that the plugin is
listed in `on` mode and absent in `off` mode, and after timing that `off` runs produced no ORM
codes. `--isolated` ignores any flake8 config file, and every run uses an empty scratch folder
as its working directory so no project's setup.cfg / pyproject.toml is picked up.
The two variants alternate (off,on / on,off ...) to spread drift evenly.

(p) In-process, no interpreter start: per file, read + `ast.parse` (timed) and then
`orm_lint.flake8_plugin.analysis.analyze(tree, filename)` on that tree (timed separately).
The analyze sum is the plugin's direct cost, a cross-check on b - a.

(c) `orm-lint check --no-mypy --no-cache --jobs 1 TREE` (subprocess) versus the floor: a fresh
`python -c` that reads and `ast.parse`s every file of the same list, on one core (file list
given, so directory walking is not in the floor). Printed as the ratio CLI / floor; the
in-process ratio (read+parse+analyze) / (read+parse) from (p) is printed next to it, and the
start-up cost of `python -c pass` and of `orm-lint check` on an empty folder is shown so the
fixed part of both subprocess figures is visible.

The file list is orm-lint's own discovery (orm_lint.engines.discover); flake8 applies its own
default excludes, which can differ slightly (its count is not reported by flake8 itself).
Results go to bench/results/flake8_overhead-<name>.json.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    bytecode_as_installed,
    discover,
    environment,
    fmt_s,
    fmt_x,
    make_synthetic_tree,
    ratio,
    summary,
    tree_stats,
    warm_page_cache,
    write_results,
)

RUNNER = r"""
import sys
mode = sys.argv.pop(1)
if mode == "off":
    from flake8.plugins import finder
    _find_plugins = finder.find_plugins
    def find_plugins(cfg, opts):
        return [p for p in _find_plugins(cfg, opts) if not p.entry_point.value.startswith("orm_lint")]
    finder.find_plugins = find_plugins
from flake8.main.cli import main
main(sys.argv[1:])
"""

FLOOR = r"""
import ast, sys, warnings
warnings.simplefilter("ignore")
bad = 0
for name in open(sys.argv[1], encoding="utf-8").read().splitlines():
    with open(name, "rb") as handle:
        data = handle.read()
    try:
        ast.parse(data, filename=name)
    except (SyntaxError, ValueError):
        bad += 1
print(bad)
"""

ORM_LINE = re.compile(r":\d+:\d+: ORM\d+ ")
SUMMARY_LINE = re.compile(r"orm-lint: (\d+|no) findings? in (\d+) files?")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str], str]:
    """(wall seconds, CPU seconds of the child, process, stdout); one child at a time, so the
    RUSAGE_CHILDREN delta is that child's user+system time."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
        cpu0 = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
        elapsed = time.perf_counter() - start
        cpu = _children_cpu() - cpu0
        out.seek(0)
        return elapsed, cpu, proc, out.read()


def flake8_cmd(mode: str, tree: Path) -> list[str]:
    return [sys.executable, "-c", RUNNER, mode, "--isolated", "--jobs", "1", str(tree)]


def check_toggle(scratch: Path) -> dict[str, list[str]]:
    seen = {}
    for mode in ("on", "off"):
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER, mode, "--bug-report"],
            cwd=scratch,
            capture_output=True,
            text=True,
            check=True,
        )
        seen[mode] = [p["plugin"] for p in json.loads(proc.stdout)["plugins"]]
    if "orm-lint" not in seen["on"] or "orm-lint" in seen["off"]:
        raise SystemExit(f"plugin toggle does not work: {seen}")
    return seen


def in_process(files: list[Path], reps: int) -> dict[str, object]:
    from orm_lint.flake8_plugin.analysis import analyze

    parse_samples, analyze_samples, parse_cpu, analyze_cpu = [], [], [], []
    errors: dict[str, str] = {}
    unparsable: list[str] = []
    reports = 0
    for rep in range(reps):
        parse_total = analyze_total = parse_c = analyze_c = 0.0
        count = 0
        for path in files:
            name = str(path)
            c0, t0 = time.process_time(), time.perf_counter()
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(data, filename=name)
            except (SyntaxError, ValueError):
                parse_total += time.perf_counter() - t0
                parse_c += time.process_time() - c0
                if rep == 0:
                    unparsable.append(name)
                continue
            t1, c1 = time.perf_counter(), time.process_time()
            try:
                count += len(analyze(tree, name))
            except Exception as error:  # noqa: BLE001 - recorded and reported
                errors[name] = repr(error)
            c2, t2 = time.process_time(), time.perf_counter()
            parse_total += t1 - t0
            analyze_total += t2 - t1
            parse_c += c1 - c0
            analyze_c += c2 - c1
        parse_samples.append(parse_total)
        analyze_samples.append(analyze_total)
        parse_cpu.append(parse_c)
        analyze_cpu.append(analyze_c)
        reports = count
    return {
        "read_parse": summary(parse_samples),
        "analyze": summary(analyze_samples),
        "read_parse_cpu": summary(parse_cpu),
        "analyze_cpu": summary(analyze_cpu),
        "reports": reports,
        "analyze_errors": errors,
        "unparsable": unparsable,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="folder of Python files")
    parser.add_argument("--synthetic", type=int, metavar="N", help="generate N files in a scratch folder instead")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every measurement (default 5)")
    parser.add_argument("--flake8-reps", type=int, help="repetitions of each flake8 variant (default: --reps)")
    parser.add_argument("--name", help="results name (default: the tree's folder name)")
    args = parser.parse_args()
    bytecode_as_installed()
    if (args.tree is None) == (args.synthetic is None):
        parser.error("give a TREE or --synthetic N (not both)")
    flake8_reps = args.flake8_reps or args.reps

    scratch = Path(tempfile.mkdtemp(prefix="orm-lint-bench-"))
    try:
        if args.synthetic is not None:
            tree = make_synthetic_tree(args.synthetic, scratch / "synthetic")
            name = args.name or f"synthetic{args.synthetic}"
        else:
            tree = args.tree.resolve()
            name = args.name or tree.name
        workdir = scratch / "cwd"
        workdir.mkdir()
        empty = scratch / "empty"
        empty.mkdir()

        files = discover(tree)
        stats = tree_stats(files)
        print(f"tree {tree}: {stats['files']} files, {stats['lines']} lines, {stats['bytes'] / 1e6:.1f} MB", flush=True)
        plugins = check_toggle(workdir)
        print(f"flake8 plugins on: {plugins['on']}; off: {plugins['off']}", flush=True)
        warm_page_cache(files)
        listing = scratch / "files.txt"
        listing.write_text("".join(f"{p}\n" for p in files), encoding="utf-8")
        orm_lint_exe = str(Path(sys.executable).with_name("orm-lint"))
        started = time.perf_counter()

        # (a) / (b): flake8 without and with the plugin, alternating.
        wall_s: dict[str, list[float]] = {k: [] for k in ("off", "on", "cli", "floor", "py_start", "cli_start")}
        cpu_s: dict[str, list[float]] = {k: [] for k in wall_s}
        load: list[float] = []

        def record(key: str, elapsed: float, cpu: float) -> None:
            wall_s[key].append(elapsed)
            cpu_s[key].append(cpu)
            load.append(os.getloadavg()[0])

        flake8_info: dict[str, dict[str, object]] = {}
        for rep in range(flake8_reps):
            for mode in (("off", "on") if rep % 2 == 0 else ("on", "off")):
                elapsed, cpu, proc, out = timed_run(flake8_cmd(mode, tree), workdir)
                record(mode, elapsed, cpu)
                lines = out.splitlines()
                flake8_info[mode] = {
                    "exit_code": proc.returncode,
                    "reports": len(lines),
                    "orm_reports": sum(1 for line in lines if ORM_LINE.search(line)),
                    "e999_reports": sum(1 for line in lines if ": E999 " in line),
                    "stderr_lines": proc.stderr.splitlines()[:50],
                    "orm_lint_internal_errors": sum(
                        1 for line in proc.stderr.splitlines() if "orm-lint: internal error" in line
                    ),
                }
                print(
                    f"  flake8 {mode:3} rep {rep + 1}/{flake8_reps}: {elapsed:.2f} s wall, {cpu:.2f} s cpu,"
                    f" load {load[-1]:.2f}",
                    flush=True,
                )
        if flake8_info["off"]["orm_reports"]:
            raise SystemExit("the `off` flake8 run reported ORM codes: the toggle failed")

        # (p): in process.
        proc_results = in_process(files, args.reps)
        print("  in-process read+parse / analyze done", flush=True)

        # (c): orm-lint CLI vs the read+parse floor, plus start-up baselines; alternating.
        cli_info: dict[str, object] = {}
        for rep in range(args.reps):
            order = ("cli", "floor") if rep % 2 == 0 else ("floor", "cli")
            for what in order:
                if what == "cli":
                    elapsed, cpu, proc, out = timed_run(
                        [orm_lint_exe, "check", "--no-mypy", "--no-cache", "--jobs", "1", str(tree)], workdir
                    )
                    found = SUMMARY_LINE.search(out)
                    cli_info = {
                        "exit_code": proc.returncode,
                        "summary": found.group(0) if found else out.strip().splitlines()[-1:],
                        "stderr_lines": proc.stderr.splitlines()[:50],
                        "problems": len(proc.stderr.splitlines()),
                    }
                else:
                    elapsed, cpu, proc, out = timed_run([sys.executable, "-c", FLOOR, str(listing)], workdir)
                record(what, elapsed, cpu)
            record("py_start", *timed_run([sys.executable, "-c", "pass"], workdir)[:2])
            record(
                "cli_start",
                *timed_run([orm_lint_exe, "check", "--no-mypy", "--no-cache", "--jobs", "1", str(empty)], workdir)[:2],
            )
            print(
                f"  orm-lint CLI / floor rep {rep + 1}/{args.reps}:"
                f" {wall_s['cli'][-1]:.2f} s / {wall_s['floor'][-1]:.2f} s wall,"
                f" load {load[-1]:.2f}",
                flush=True,
            )
        wall = time.perf_counter() - started

        W = {k: summary(v) for k, v in wall_s.items()}
        C = {k: summary(v) for k, v in cpu_s.items()}
        P = proc_results

        def med(table: dict[str, dict[str, object]], key: str) -> float:
            return table[key]["median"]  # type: ignore[return-value]

        plugin_wall = med(W, "on") - med(W, "off")
        plugin_cpu = med(C, "on") - med(C, "off")
        inproc_ratio_wall = ratio(med(P, "read_parse") + med(P, "analyze"), med(P, "read_parse"))
        inproc_ratio_cpu = ratio(med(P, "read_parse_cpu") + med(P, "analyze_cpu"), med(P, "read_parse_cpu"))
        results = {
            "benchmark": "flake8_overhead",
            "name": name,
            "tree": str(tree),
            "synthetic": args.synthetic,
            "tree_stats": stats,
            "reps": args.reps,
            "flake8_reps": flake8_reps,
            "environment": environment(),
            "method": "flake8 in a fresh `python -c` launcher; `off` filters orm_lint entry points out of "
            "flake8.plugins.finder.find_plugins; cwd = empty scratch folder; --isolated --jobs 1; "
            "wall = perf_counter, cpu = child user+sys from RUSAGE_CHILDREN (in-process: process_time)",
            "load_average_1min": summary(load),
            "flake8_plugins": plugins,
            "wall": W,
            "cpu": C,
            "flake8_ratio_on_over_off": {
                "wall": ratio(med(W, "on"), med(W, "off")),
                "cpu": ratio(med(C, "on"), med(C, "off")),
                "wall_of_minima": ratio(W["on"]["min"], W["off"]["min"]),
                "cpu_of_minima": ratio(C["on"]["min"], C["off"]["min"]),
            },
            "flake8_plugin_seconds": {"wall": plugin_wall, "cpu": plugin_cpu},
            "flake8_output": flake8_info,
            "in_process": P,
            "in_process_ratio_parse_analyze_over_parse": {"wall": inproc_ratio_wall, "cpu": inproc_ratio_cpu},
            "cli_output": cli_info,
            "cli_ratio_over_floor": {
                "wall": ratio(med(W, "cli"), med(W, "floor")),
                "cpu": ratio(med(C, "cli"), med(C, "floor")),
                "wall_of_minima": ratio(W["cli"]["min"], W["floor"]["min"]),
                "cpu_of_minima": ratio(C["cli"]["min"], C["floor"]["min"]),
            },
            "wall_seconds": wall,
        }
        out_path = write_results(f"flake8_overhead-{name}", results)

        n = stats["files"]
        print()
        print(
            f"== flake8_overhead: {name} ({n} files, {stats['lines']} lines;"
            f" medians of {flake8_reps} flake8 / {args.reps} other reps;"
            f" 1-min load avg {min(load):.2f}..{max(load):.2f})"
        )
        print(f"  {'':40} {'wall':>11} {'cpu':>11}   wall min..max")

        def row(label: str, key: str) -> None:
            print(f"  {label:40} {fmt_s(med(W, key))} {fmt_s(med(C, key))}   {W[key]['min']:.3f}..{W[key]['max']:.3f}")

        def ratio_row(label: str, pair: dict[str, float | None], extra: str = "") -> None:
            print(f"  {label:40} {fmt_x(pair['wall']):>11} {fmt_x(pair['cpu']):>11}   {extra}")

        row("(a) flake8 --jobs 1, orm-lint off", "off")
        row("(b) flake8 --jobs 1, orm-lint on", "on")
        ratio_row(
            "    ratio b/a",
            results["flake8_ratio_on_over_off"],
            f"b-a = {plugin_wall:.3f} s wall / {plugin_cpu:.3f} s cpu"
            f" ({1000 * plugin_cpu / max(n, 1):.2f} ms/file cpu)",
        )
        print(
            f"  {'    ratio b/a of minima':40} {fmt_x(results['flake8_ratio_on_over_off']['wall_of_minima']):>11}"
            f" {fmt_x(results['flake8_ratio_on_over_off']['cpu_of_minima']):>11}"
        )
        print(f"  {'(p) in-process read+ast.parse':40} {fmt_s(med(P, 'read_parse'))} {fmt_s(med(P, 'read_parse_cpu'))}")
        print(
            f"  {'    in-process analyze() only':40} {fmt_s(med(P, 'analyze'))} {fmt_s(med(P, 'analyze_cpu'))}"
            f"   {1000 * med(P, 'analyze_cpu') / max(n, 1):.2f} ms/file cpu"
        )
        ratio_row("    ratio (parse+analyze)/parse", results["in_process_ratio_parse_analyze_over_parse"])
        row("(c) orm-lint check --no-mypy --jobs 1", "cli")
        row("    floor: python -c read+ast.parse", "floor")
        ratio_row(
            "    ratio CLI/floor",
            results["cli_ratio_over_floor"],
            f"of minima: {results['cli_ratio_over_floor']['wall_of_minima']:.2f}x wall,"
            f" {results['cli_ratio_over_floor']['cpu_of_minima']:.2f}x cpu",
        )
        row("    start-up: python -c pass", "py_start")
        row("    start-up: orm-lint check <empty dir>", "cli_start")
        print(
            f"  reports: flake8 off {flake8_info['off']['reports']} (E999 {flake8_info['off']['e999_reports']}),"
            f" on {flake8_info['on']['reports']} (ORM {flake8_info['on']['orm_reports']});"
            f" CLI: {cli_info.get('summary')}; in-process analyze() reports (before noqa) {proc_results['reports']}"
        )
        print(
            f"  problems: unparsable (py{sys.version_info.major}.{sys.version_info.minor})"
            f" {len(proc_results['unparsable'])},"
            f" analyze() exceptions {len(proc_results['analyze_errors'])},"
            f" flake8 orm-lint internal errors {flake8_info['on']['orm_lint_internal_errors']},"
            f" CLI stderr lines {cli_info.get('problems')}"
        )
        for file, error in list(proc_results["analyze_errors"].items())[:10]:
            print(f"    analyze error: {file}: {error}")
        print(f"  wall time {wall:.0f} s; results: {out_path}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
