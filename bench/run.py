"""The whole benchmark set in one command: medians, ratios against the issue's targets, JSON results.

Usage:
    python bench/run.py [TREE] [--synthetic N] [--reps 3] [--flake8-reps N] [--mypy-runs 3] [--skip a,e]

Without TREE a synthetic tree of N files (default 4000) is generated in a scratch folder.
Sections (each measurement repeated, variants interleaved within every repetition so drift
and other load hit them alike; the 1-minute load average is recorded before every run):

(a) flake8 overhead: `flake8 --isolated --jobs 1 TREE` with orm-lint's plugin filtered out of
    flake8's plugin discovery (off) and loaded (on), both from the same launcher
    (bench/flake8_overhead.py explains the toggle). Target: on/off <= 1.05.
(b) syntax engine vs the parse floor: `orm-lint check --no-mypy --no-cache --jobs 1 TREE` against a
    fresh interpreter that reads and `ast.parse`s the same file list (one core), and the same check
    with `--jobs 2` (scaling). Target: jobs-1 / floor <= 1.5, and jobs 2 faster than jobs 1.
(c) results cache, on a copy of the tree, with a fresh cache folder (XDG_CACHE_HOME in scratch):
    cold run, warm re-run, run after editing one database file, run after touching every file
    (mtimes change, content does not: the content-hash fallback). Default jobs. Cold and warm
    findings are compared. Target: warm <= 1 s, edit-one barely more.
(d) peak memory: the largest resident set of one process (RUSAGE_CHILDREN ru_maxrss of a wrapper)
    for flake8 with the plugin and for `orm-lint check --no-mypy --no-cache`, each with --jobs 1
    and with the default jobs. Target: orm-lint <= flake8.
(e) mypy plugin overhead: bench/mypy_overhead.py on each app of the acceptance corpus (their
    mypy.ini lack our plugin; the script adds it first for the orm-lint variant). Target <= 1.05.

Results: bench/results/run-<name>.json (git-ignored); figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BENCH_DIR,
    bytecode_as_installed,
    RESULTS_DIR,
    discover,
    environment,
    make_synthetic_tree,
    ratio,
    summary,
    tree_stats,
    warm_page_cache,
    write_results,
)
from flake8_overhead import FLOOR, check_toggle, flake8_cmd, in_process, timed_run  # noqa: E402

SECTIONS = ("a", "b", "c", "d", "e")
ACCEPTANCE = Path(os.environ.get("ORM_LINT_SHARED") or BENCH_DIR.parent.parent / "shared") / "acceptance"
MAX_RSS = r"""
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
TARGETS = {
    "flake8_on_over_off": 1.05,
    "check_jobs1_over_floor": 1.5,
    "cache_warm_seconds": 1.0,
    "mypy_cold_ratio": 1.05,
    "mypy_warm_ratio": 1.05,
}


class Recorder:
    """Samples per measurement, with the load average seen just before each run."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.load: list[float] = []

    def run(self, key: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
        self.load.append(os.getloadavg()[0])
        if env is None:
            elapsed, cpu, proc, out = timed_run(cmd, cwd)
        else:
            elapsed, cpu, proc, out = _timed_run_env(cmd, cwd, env)
        self.wall.setdefault(key, []).append(elapsed)
        self.cpu.setdefault(key, []).append(cpu)
        return proc.returncode, out

    def median(self, key: str, table: str = "wall") -> float:
        return summary(getattr(self, table)[key])["median"]  # type: ignore[return-value]

    def as_json(self) -> dict[str, object]:
        return {
            "wall": {k: summary(v) for k, v in self.wall.items()},
            "cpu": {k: summary(v) for k, v in self.cpu.items()},
            "load_average_1min": summary(self.load) if self.load else None,
        }


def _timed_run_env(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, object, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, proc, proc.stdout


def _say(message: str) -> None:
    print(f"  {message}", flush=True)


def flake8_overhead(tree: Path, files: list[Path], workdir: Path, reps: int) -> dict[str, object]:
    check_toggle(workdir)
    rec = Recorder()
    for rep in range(reps):
        for mode in ("off", "on") if rep % 2 == 0 else ("on", "off"):
            rec.run(mode, flake8_cmd(mode, tree), workdir)
            _say(f"(a) flake8 {mode:3} rep {rep + 1}/{reps}: {rec.wall[mode][-1]:.2f} s (load {rec.load[-1]:.2f})")
    # On a loaded machine two runs of the same flake8 differ by more than the plugin costs; the plugin's
    # own CPU time, measured in process (analyze() on trees parsed beforehand, fastest repetition), is steadier.
    plugin = in_process(files, max(2, min(reps, 3)))
    analyze_cpu: float = plugin["analyze_cpu"]["min"]  # type: ignore[index]
    off_cpu = min(rec.cpu["off"])
    _say(f"(a) in-process analyze(): {analyze_cpu:.2f} s cpu")
    return {
        **rec.as_json(),
        "ratio_on_over_off": {
            "wall": ratio(rec.median("on"), rec.median("off")),
            "cpu": ratio(rec.median("on", "cpu"), rec.median("off", "cpu")),
            "cpu_of_minima": ratio(min(rec.cpu["on"]), off_cpu),
        },
        "plugin_cpu_in_process": {
            "analyze_cpu_min": analyze_cpu,
            "flake8_off_cpu_min": off_cpu,
            "estimated_ratio": ratio(off_cpu + analyze_cpu, off_cpu),
            "analyze_errors": plugin["analyze_errors"],
        },
    }


def syntax_engine(tree: Path, files: list[Path], scratch: Path, workdir: Path, reps: int) -> dict[str, object]:
    listing = scratch / "files.txt"
    listing.write_text("".join(f"{p}\n" for p in files), encoding="utf-8")
    exe = str(Path(sys.executable).with_name("orm-lint"))
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    commands = {
        "floor": [sys.executable, "-c", FLOOR, str(listing)],
        "check_jobs1": [exe, "check", "--no-mypy", "--no-cache", "--jobs", "1", str(tree)],
        "check_jobs2": [exe, "check", "--no-mypy", "--no-cache", "--jobs", "2", str(tree)],
    }
    rec = Recorder()
    for rep in range(reps):
        order = list(commands) if rep % 2 == 0 else list(reversed(commands))
        for key in order:
            rec.run(key, commands[key], workdir)
        rec.run("python_start", [sys.executable, "-c", "pass"], workdir)
        rec.run("check_start", [exe, "check", "--no-mypy", "--no-cache", "--jobs", "1", str(empty)], workdir)
        _say(
            f"(b) rep {rep + 1}/{reps}: floor {rec.wall['floor'][-1]:.2f} s,"
            f" jobs 1 {rec.wall['check_jobs1'][-1]:.2f} s, jobs 2 {rec.wall['check_jobs2'][-1]:.2f} s"
            f" (load {rec.load[-1]:.2f})"
        )
    return {
        **rec.as_json(),
        "ratio_jobs1_over_floor": {
            "wall": ratio(rec.median("check_jobs1"), rec.median("floor")),
            "cpu": ratio(rec.median("check_jobs1", "cpu"), rec.median("floor", "cpu")),
        },
        "speedup_jobs2": ratio(rec.median("check_jobs1"), rec.median("check_jobs2")),
    }


def _database_file(files: list[Path]) -> Path:
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if "from django" in text or "import sqlalchemy" in text or "from sqlalchemy" in text:
            return path
    return files[0]


def results_cache(tree: Path, files: list[Path], scratch: Path, workdir: Path, reps: int) -> dict[str, object]:
    copy = scratch / "copy"
    for path in files:
        target = copy / path.relative_to(tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    copied = [copy / p.relative_to(tree) for p in files]
    edited = _database_file(copied)
    exe = str(Path(sys.executable).with_name("orm-lint"))
    xdg = scratch / "xdg"
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    command = [exe, "check", "--no-mypy", "--format", "json", str(copy)]
    rec = Recorder()
    identical = True
    for rep in range(reps):
        shutil.rmtree(xdg, ignore_errors=True)
        _, cold = rec.run("cold", command, workdir, env)
        _, warm = rec.run("warm", command, workdir, env)
        identical = identical and _findings(cold) == _findings(warm)
        with edited.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# edited by the benchmark, repetition {rep}\n")
        rec.run("edit_one", command, workdir, env)
        rec.run("warm_after_edit", command, workdir, env)
        time.sleep(2.1)  # past the cache's racy window, so the touch below is a real mtime change
        for path in copied:
            os.utime(path)
        rec.run("touch_all", command, workdir, env)
        _say(
            f"(c) rep {rep + 1}/{reps}: cold {rec.wall['cold'][-1]:.2f} s, warm {rec.wall['warm'][-1]:.2f} s,"
            f" edit one {rec.wall['edit_one'][-1]:.2f} s, touch all {rec.wall['touch_all'][-1]:.2f} s"
            f" (load {rec.load[-1]:.2f})"
        )
    return {
        **rec.as_json(),
        "cold_and_warm_findings_identical": identical,
        "edited_file": str(edited.relative_to(copy)),
    }


def _findings(output: str) -> object:
    try:
        return json.loads(output)["findings"]
    except (ValueError, KeyError):
        return None


def peak_memory(tree: Path, workdir: Path, reps: int) -> dict[str, object]:
    exe = str(Path(sys.executable).with_name("orm-lint"))
    commands = {
        "flake8_jobs1": flake8_cmd("on", tree),
        "check_jobs1": [exe, "check", "--no-mypy", "--no-cache", "--jobs", "1", str(tree)],
        "flake8_default_jobs": [sys.executable, "-m", "flake8", "--isolated", str(tree)],
        "check_default_jobs": [exe, "check", "--no-mypy", "--no-cache", str(tree)],
    }
    peaks: dict[str, list[float]] = {k: [] for k in commands}
    for rep in range(reps):
        for key, cmd in commands.items():
            out = subprocess.run([sys.executable, "-c", MAX_RSS, *cmd], cwd=workdir, capture_output=True, text=True)
            peaks[key].append(int(out.stdout.strip()) / 1024)
            _say(f"(d) rep {rep + 1}/{reps}: {key} peak {peaks[key][-1]:.0f} MB")
    medians = {k: summary(v) for k, v in peaks.items()}
    return {
        "max_rss_mb": medians,
        "ratio_check_over_flake8_jobs1": ratio(medians["check_jobs1"]["median"], medians["flake8_jobs1"]["median"]),
        "ratio_check_over_flake8_default_jobs": ratio(
            medians["check_default_jobs"]["median"], medians["flake8_default_jobs"]["median"]
        ),
    }


def mypy_overhead(runs: int, scratch: Path) -> dict[str, object]:
    apps = sorted(p for p in ACCEPTANCE.iterdir() if (p / "mypy.ini").is_file()) if ACCEPTANCE.is_dir() else []
    results: dict[str, object] = {}
    for app in apps:
        output = scratch / f"mypy-{app.name}.json"
        load = os.getloadavg()[0]
        proc = subprocess.run(
            [sys.executable, str(BENCH_DIR / "mypy_overhead.py"), str(app), "--runs", str(runs), "--json", str(output)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            results[app.name] = {"error": proc.stdout[-2000:] + proc.stderr[-2000:]}
            _say(f"(e) {app.name}: failed")
            continue
        data = json.loads(output.read_text())
        data["load_average_1min_before"] = load
        results[app.name] = data
        _say(f"(e) {app.name}: cold {data['ratios']['cold']:.3f}x, warm {data['ratios']['warm']:.3f}x")
    return results


def verdicts(results: dict[str, object]) -> dict[str, object]:
    """Each target with its measured value and whether it is met."""
    found: dict[str, object] = {}

    def judge(name: str, value: float | None) -> None:
        limit = TARGETS.get(name)
        found[name] = {
            "value": value,
            "target": limit,
            "met": None if value is None or limit is None else value <= limit,
        }

    a = results.get("a")
    if isinstance(a, dict):
        judge("flake8_on_over_off", a["plugin_cpu_in_process"]["estimated_ratio"])
        found["flake8_estimate_from_plugin_cpu"] = found.pop("flake8_on_over_off")
        judge("flake8_on_over_off", a["ratio_on_over_off"]["wall"])
    b = results.get("b")
    if isinstance(b, dict):
        judge("check_jobs1_over_floor", b["ratio_jobs1_over_floor"]["wall"])
        found["speedup_jobs2"] = {"value": b["speedup_jobs2"], "target": "> 1", "met": (b["speedup_jobs2"] or 0) > 1}
    c = results.get("c")
    if isinstance(c, dict):
        judge("cache_warm_seconds", c["wall"]["warm"]["median"])
    d = results.get("d")
    if isinstance(d, dict):
        value = d["ratio_check_over_flake8_jobs1"]
        met = value is not None and value <= 1
        found["peak_memory_check_over_flake8"] = {"value": value, "target": 1.0, "met": met}
    e = results.get("e")
    if isinstance(e, dict):
        for app, data in e.items():
            if isinstance(data, dict) and "ratios" in data:
                judge("mypy_cold_ratio", data["ratios"]["cold"])
                found[f"mypy_cold_ratio[{app}]"] = found.pop("mypy_cold_ratio")
                judge("mypy_warm_ratio", data["ratios"]["warm"])
                found[f"mypy_warm_ratio[{app}]"] = found.pop("mypy_warm_ratio")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="folder of Python files (default: a synthetic tree)")
    parser.add_argument("--synthetic", type=int, default=4000, metavar="N", help="files of the synthetic tree")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of sections b, c, d (default 3)")
    parser.add_argument("--flake8-reps", type=int, help="repetitions of each flake8 variant (default: --reps)")
    parser.add_argument("--memory-reps", type=int, default=1, help="repetitions of section d (default 1)")
    parser.add_argument("--mypy-runs", type=int, default=3, help="runs of each mypy variant (default 3)")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to leave out ({','.join(SECTIONS)})")
    parser.add_argument("--name", help="results name (default: the tree's folder name)")
    args = parser.parse_args()
    bytecode_as_installed()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    scratch = Path(tempfile.mkdtemp(prefix="orm-lint-bench-"))
    try:
        if args.tree is None:
            tree = make_synthetic_tree(args.synthetic, scratch / "synthetic")
            name = args.name or f"synthetic{args.synthetic}"
        else:
            tree = args.tree.resolve()
            name = args.name or tree.name
        workdir = scratch / "cwd"
        workdir.mkdir()
        files = discover(tree)
        stats = tree_stats(files)
        warm_page_cache(files)
        print(
            f"tree {tree}: {stats['files']} files, {stats['lines']} lines; sections "
            f"{','.join(s for s in SECTIONS if s not in skip)}; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        started = time.perf_counter()
        results: dict[str, object] = {}
        if "a" not in skip:
            results["a"] = flake8_overhead(tree, files, workdir, args.flake8_reps or args.reps)
        if "b" not in skip:
            results["b"] = syntax_engine(tree, files, scratch, workdir, args.reps)
        if "c" not in skip:
            results["c"] = results_cache(tree, files, scratch, workdir, args.reps)
        if "d" not in skip:
            results["d"] = peak_memory(tree, workdir, args.memory_reps)
        if "e" not in skip:
            results["e"] = mypy_overhead(args.mypy_runs, scratch)
        document = {
            "benchmark": "run",
            "name": name,
            "tree": str(tree),
            "synthetic": args.synthetic if args.tree is None else None,
            "tree_stats": stats,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "environment": environment(),
            "arguments": vars(args) | {"tree": str(args.tree) if args.tree else None},
            "results": results,
            "targets": verdicts(results),
            "wall_seconds": time.perf_counter() - started,
        }
        output = write_results(f"run-{name}", document)
        _print_summary(document)
        print(f"results: {output.relative_to(RESULTS_DIR.parent.parent)}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print_summary(document: dict[str, object]) -> None:
    results: dict[str, dict[str, object]] = document["results"]  # type: ignore[assignment]
    stats = document["tree_stats"]
    print(f"\n== {document['name']}: {stats['files']} files, {stats['lines']} lines")  # type: ignore[index]

    def med(section: str, key: str, table: str = "wall") -> float:
        return results[section][table][key]["median"]  # type: ignore[index, return-value]

    if "a" in results:
        plugin: dict[str, float] = results["a"]["plugin_cpu_in_process"]  # type: ignore[assignment]
        print(
            f"(a) flake8 off {med('a', 'off'):.2f} s, on {med('a', 'on'):.2f} s: "
            f"{results['a']['ratio_on_over_off']['wall']:.3f}x wall, "  # type: ignore[index]
            f"{results['a']['ratio_on_over_off']['cpu']:.3f}x cpu; plugin in process "  # type: ignore[index]
            f"{plugin['analyze_cpu_min']:.2f} s cpu over flake8's {plugin['flake8_off_cpu_min']:.2f} s: "
            f"{plugin['estimated_ratio']:.3f}x"
        )
    if "b" in results:
        print(
            f"(b) floor {med('b', 'floor'):.2f} s, check --jobs 1 {med('b', 'check_jobs1'):.2f} s "
            f"({results['b']['ratio_jobs1_over_floor']['wall']:.2f}x wall, "  # type: ignore[index]
            f"{results['b']['ratio_jobs1_over_floor']['cpu']:.2f}x cpu), "  # type: ignore[index]
            f"--jobs 2 {med('b', 'check_jobs2'):.2f} s ({results['b']['speedup_jobs2']:.2f}x faster); "
            f"start-up: python {med('b', 'python_start'):.2f} s, orm-lint {med('b', 'check_start'):.2f} s"
        )
    if "c" in results:
        print(
            f"(c) cache: cold {med('c', 'cold'):.2f} s, warm {med('c', 'warm'):.2f} s, edit one "
            f"{med('c', 'edit_one'):.2f} s, touch all {med('c', 'touch_all'):.2f} s; cold == warm findings: "
            f"{results['c']['cold_and_warm_findings_identical']}"
        )
    if "d" in results:
        rss: dict[str, dict[str, float]] = results["d"]["max_rss_mb"]  # type: ignore[assignment]
        print("(d) peak RSS: " + ", ".join(f"{k} {v['median']:.0f} MB" for k, v in rss.items()))
    if "e" in results:
        for app, data in results["e"].items():  # type: ignore[union-attr]
            if "ratios" in data:
                m = data["medians"]
                print(
                    f"(e) mypy {app}: cold {m['baseline_cold']:.2f} -> {m['orm_lint_cold']:.2f} s "
                    f"({data['ratios']['cold']:.3f}x), warm {m['baseline_warm']:.2f} -> {m['orm_lint_warm']:.2f} s "
                    f"({data['ratios']['warm']:.3f}x)"
                )
            else:
                print(f"(e) mypy {app}: failed")
    for name, verdict in document["targets"].items():  # type: ignore[union-attr]
        value = verdict["value"]
        shown = "-" if value is None else f"{value:.3f}"
        print(f"target {name}: {shown} (target {verdict['target']}): {'met' if verdict['met'] else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
