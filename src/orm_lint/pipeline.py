"""One analysis run, shared by `orm-lint check`, `report` and `baseline`.

Discover files, run the syntax engine and mypy, merge, then narrow: `--select`/`--ignore`,
`--diff BASE` (only changed lines) and `--baseline FILE` (only new findings).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .baseline import load_baseline, new_findings
from .cache import ResultCache
from .catalogue import RULES, Engine
from .config import KEYS_BY_NAME, Settings, load_settings
from .diff import ChangedLines, changed_lines
from .engines import check_file, discover, merge_engines, run_syntax_engine, selected, suppressed_by_noqa
from .migration_scope import not_reviewed, reviewed_code
from .mypy_engine import MypyRequest, mypy_available, run_mypy
from .notebooks import NOTEBOOK_SUFFIX
from .progress import Progress
from .project import NO_CACHE_VARIABLE, project_root
from .project.index import share_file_list
from .sources import display_path, source_lines
from .tests_scope import left_out_as_test
from .findings import FileProblem, Finding, GoodPattern

# mypy error code (`orm-lazy-load-per-item`) -> catalogue code, without importing mypy here.
RULE_CODE_BY_MYPY_CODE = {f"orm-{r.name}": r.code for r in RULES if r.engine is Engine.MYPY}
STDIN = "-"


class UsageError(Exception):
    """A request that cannot run as given (exit status 2); the message is for the user."""


@dataclass
class Analysis:
    settings: Settings
    files: list[Path]
    findings: list[Finding]
    problems: list[FileProblem]
    engines: list[str] = field(default_factory=lambda: ["flake8"])
    mypy_errors: int = 0
    changes: ChangedLines | None = None
    hidden_by_baseline: int = 0
    type_rules_not_run: str | None = None  # why mypy did not run or finish, and what to do
    mypy_failed: bool = False  # mypy was to run and stopped: exit status 2
    notes: list[str] = field(default_factory=list)  # what the user should know about this run
    migrations_not_reviewed: int = 0  # existing migrations the migration rules left out (`migrations = "new"`)
    tests_not_checked: int = 0  # test modules left out (`tests = "skip"`)
    good_patterns: list[GoodPattern] = field(default_factory=list)  # what the review counts, from the same walk


def _codes(value: str | None, option: str) -> tuple[str, ...]:
    """`--select`/`--ignore`, checked as the configuration's `select`/`ignore` are."""
    return KEYS_BY_NAME["select"].read(value or "", option, "the command line")  # type: ignore[no-any-return]


def _warn(message: str) -> None:
    print(f"orm-lint: warning: {message}", file=sys.stderr)


def analyse(args: argparse.Namespace, progress: Progress = Progress(), review: bool = False) -> Analysis:
    """Run the engines as the command-line options say; raises UsageError, DiffError, BaselineError.

    `review`: the run is for the review, which also counts good patterns.
    """
    settings = load_settings()
    for warning in settings.warnings:
        _warn(warning)
    if getattr(args, "migrations", None):
        settings = replace(settings, migrations=args.migrations)
    if getattr(args, "tests", None):
        settings = replace(settings, tests=args.tests)
    select = _codes(args.select, "--select") or settings.select
    ignore = _codes(args.ignore, "--ignore") or settings.ignore
    missing = [p for p in args.paths if p != STDIN and not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    budget = load_baseline(Path(args.baseline)) if getattr(args, "baseline", None) else None
    changes = changed_lines(args.diff) if getattr(args, "diff", None) else None
    exclude = [*settings.exclude, *args.exclude]
    with tempfile.TemporaryDirectory(prefix="orm-lint-stdin-") as scratch:
        stdin = _read_stdin(args, Path(scratch)) if args.paths == [STDIN] else None
        files = [stdin[0]] if stdin else discover(args.paths, exclude)
        if not stdin and not exclude:
            _share_with_the_index(args.paths, files)
        if changes is not None:
            files = [f for f in files if changes.includes(f)]
        tests = {f for f in files if left_out_as_test(f, settings)}
        files = [f for f in files if f not in tests]
        progress("syntax engine", total=len(files))
        good: list[GoodPattern] = []
        if stdin and not files:
            findings, problems = [], []
        elif stdin:
            findings, problems = check_file(stdin[0], settings, stdin[1].read_bytes(), good if review else None)
        else:
            if getattr(args, "no_cache", False):
                os.environ[NO_CACHE_VARIABLE] = "1"  # the project index too, in this process and its workers
            cache = None if getattr(args, "no_cache", False) else ResultCache.open(settings, args.paths)
            counted = good if review else None
            findings, problems = run_syntax_engine(files, settings, args.jobs, cache, progress.advance, counted)
        result = Analysis(settings, files, findings, problems, changes=changes, good_patterns=good)
        result.tests_not_checked = len(tests)
        if not args.no_mypy and files:
            _run_type_engine(args, result, progress, shadow=stdin)
    asked = {display_path(f) for f in files}  # not the modules mypy followed into
    kept = [f for f in result.findings if f.path in asked]
    kept = sorted(set(selected(kept, select, ignore, settings)), key=lambda f: f.sort_key)
    kept = [f for f in kept if reviewed_code(f.code, f.path, settings, f.table_created_in)]
    result.migrations_not_reviewed = not_reviewed(files, settings)
    if changes is not None:
        kept = [f for f in kept if changes.covers(f)]
    if budget is not None:
        fresh = new_findings(kept, budget)
        result.hidden_by_baseline = len(kept) - len(fresh)
        kept = fresh
    result.findings = kept
    result.problems = sorted(result.problems)
    return result


def _read_stdin(args: argparse.Namespace, scratch: Path) -> tuple[Path, Path]:
    """`-`: the text on stdin, checked as the file `--stdin-filename` names; (that name, a copy on disk)."""
    name = Path(getattr(args, "stdin_filename", None) or "stdin.py")
    copy = scratch / name.name
    copy.write_bytes(sys.stdin.buffer.read())
    return name, copy


def _run_type_engine(
    args: argparse.Namespace, result: Analysis, progress: Progress, shadow: tuple[Path, Path] | None
) -> None:
    """mypy with orm-lint's plugin on the files the syntax engine was given, minus the unparseable ones."""
    files = [f for f in result.files if f.suffix.lower() != NOTEBOOK_SUFFIX]
    if not files:
        return
    if not mypy_available():
        result.type_rules_not_run = "mypy is not installed (pip install 'orm-lint[mypy]', or pass --no-mypy)"
        return
    progress(f"mypy with orm-lint's plugin on {len(files)} files")
    request = MypyRequest(
        files=files,
        config_file=args.mypy_config_file,
        rule_codes=RULE_CODE_BY_MYPY_CODE,
        unparseable=[Path(p.path) for p in result.problems],
        cache_dir=result.settings.cache_dir,
        shadow=shadow,
    )
    outcome = run_mypy(request)
    merged = merge_engines(result.findings, outcome.findings)  # before `# noqa`: its place is the type-aware one's
    result.findings = [f for f in merged if f.engine != "mypy" or not _silenced(f, shadow)]
    result.problems += outcome.problems
    result.mypy_errors = outcome.other_errors
    result.type_rules_not_run = outcome.failure
    result.mypy_failed = outcome.failure is not None
    result.notes += outcome.notes
    if outcome.ran:
        result.engines.append("mypy")


def _silenced(finding: Finding, shadow: tuple[Path, Path] | None) -> bool:
    """`# noqa` for a mypy finding, read from the file (or, for the file read from stdin, its copy)."""
    source = str(shadow[1]) if shadow and finding.path == display_path(shadow[0]) else finding.path
    return suppressed_by_noqa(finding, source_lines(source))


def _share_with_the_index(paths: list[str], files: list[Path]) -> None:
    """A run over a project's root has listed its files as the index would: spare the index a second walk."""
    for path in paths:
        if os.path.isdir(path) and project_root(path) == Path(os.path.abspath(path)):
            share_file_list(str(project_root(path)), [str(f) for f in files])
