"""One analysis run, shared by `orm-lint check`, `report` and `baseline`.

Discover files, run the syntax engine and mypy, merge, then narrow: `--select`/`--ignore`,
`--diff BASE` (only changed lines) and `--baseline FILE` (only new findings).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .baseline import load_baseline, new_findings
from .cache import ResultCache
from .catalogue import RULES, Engine
from .config import Settings, load_settings
from .diff import ChangedLines, changed_lines
from .engines import FileProblem, discover, merge_engines, run_syntax_engine, selected
from .migration_scope import not_reviewed, reviewed_code
from .mypy_engine import mypy_available, run_mypy
from .notebooks import NOTEBOOK_SUFFIX
from .project import NO_CACHE_VARIABLE
from .report.findings import Finding

# mypy error code (`orm-lazy-load-per-item`) -> catalogue code, without importing mypy here.
RULE_CODE_BY_MYPY_CODE = {f"orm-{r.name}": r.code for r in RULES if r.engine is Engine.MYPY}


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
    migrations_not_reviewed: int = 0  # existing migrations the migration rules left out (`migrations = "new"`)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())


def _warn(message: str) -> None:
    print(f"orm-lint: warning: {message}", file=sys.stderr)


def analyse(args: argparse.Namespace, progress: Callable[[str], None] = lambda _: None) -> Analysis:
    """Run the engines as the command-line options say; raises UsageError, DiffError, BaselineError."""
    settings = load_settings()
    for warning in settings.warnings:
        _warn(warning)
    if getattr(args, "migrations", None):
        settings = replace(settings, migrations=args.migrations)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    budget = load_baseline(Path(args.baseline)) if getattr(args, "baseline", None) else None
    changes = changed_lines(args.diff) if getattr(args, "diff", None) else None
    exclude = [*settings.exclude, *args.exclude]
    files = discover(args.paths, exclude)
    if changes is not None:
        files = [f for f in files if changes.includes(f)]
    progress(f"analysing {len(files)} files")
    if getattr(args, "no_cache", False):
        os.environ[NO_CACHE_VARIABLE] = "1"  # the project index too, in this process and its workers
    cache = None if getattr(args, "no_cache", False) else ResultCache.open(settings, args.paths)
    findings, problems = run_syntax_engine(files, settings, args.jobs, cache)
    result = Analysis(settings, files, findings, problems, changes=changes)
    mypy_paths = [p for p in args.paths if not p.lower().endswith(NOTEBOOK_SUFFIX)]
    if not args.no_mypy and mypy_paths and any(f.suffix.lower() != NOTEBOOK_SUFFIX for f in files):
        if mypy_available():
            progress("running mypy with orm-lint's plugin")
            unparseable = [p.path for p in problems]
            outcome = run_mypy(mypy_paths, exclude, args.mypy_config_file, RULE_CODE_BY_MYPY_CODE, unparseable)
            result.findings = merge_engines(result.findings, outcome.findings)
            result.problems += outcome.problems
            result.mypy_errors = outcome.other_errors
            if outcome.ran:
                result.engines.append("mypy")
        else:
            _warn("mypy is not installed, type-aware rules skipped (pip install 'orm-lint[mypy]', or pass --no-mypy)")
    select = _codes(args.select) or settings.select
    ignore = _codes(args.ignore) or settings.ignore
    kept = sorted(set(selected(result.findings, select, ignore, settings)), key=lambda f: f.sort_key)
    kept = [f for f in kept if reviewed_code(f.code, f.path, settings)]
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
