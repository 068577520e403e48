"""The `orm-lint` command: check, report, baseline, rules, explain, docs.

Exit status: 0 no findings, 1 findings, 2 usage or internal error (`report` and
`baseline` exit 0 once their files are written).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .baseline import DEFAULT_BASELINE, BaselineError, baseline_document, fingerprints
from .catalogue import all_rules, find_rule
from .config import MIGRATION_CHOICES, ConfigError, load_settings
from .diff import DiffError
from .migration_scope import not_reviewed_note
from .pipeline import UsageError, analyse
from .report.formats import render_json, render_text
from .report.good_patterns import find_good_patterns
from .report.review import Review, write_review
from .report.sarif import render_github, render_sarif
from .report.writer import WriteError, atomic_write
from .rule_docs import rule_page, stale_docs, write_docs
from .versions import VersionAction

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _analysis_options(command: argparse.ArgumentParser, narrowing: bool = True) -> None:
    """The options every analysing command shares; `narrowing` adds --diff and --baseline."""
    command.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    command.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="glob of paths to skip (repeatable)"
    )
    command.add_argument("--select", help="comma-separated code prefixes to report (default: all)")
    command.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    command.add_argument("--no-mypy", action="store_true", help="run the syntax engine only")
    command.add_argument(
        "--mypy-config-file", metavar="FILE", help="mypy configuration to use (default: the project's)"
    )
    command.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    command.add_argument(
        "--migrations",
        choices=MIGRATION_CHOICES,
        help="which migrations the migration rules review: new on this branch, or all (default: `migrations` "
        "setting, else new)",
    )
    command.add_argument(
        "--no-cache", action="store_true", help="analyse every file again; neither read nor write the results cache"
    )
    if narrowing:
        command.add_argument("--diff", metavar="BASE", help="only findings on lines changed since git revision BASE")
        command.add_argument("--baseline", metavar="FILE", help="hide the findings recorded by `orm-lint baseline`")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orm-lint", description="Find database and ORM problems in Python code before production does."
    )
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="analyse files and report findings")
    _analysis_options(check)
    check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")

    report = commands.add_parser("report", help="write a database review: a summary and one page per finding")
    _analysis_options(report)
    report.add_argument("--output", default=".", metavar="DIR", help="folder for the review (default: .)")
    report.add_argument("--force", action="store_true", help="overwrite today's review instead of numbering a new one")

    baseline = commands.add_parser("baseline", help="record today's findings so that check reports only new ones")
    _analysis_options(baseline, narrowing=False)
    baseline.add_argument("--output", default=DEFAULT_BASELINE, metavar="FILE", help=f"(default: {DEFAULT_BASELINE})")

    rules = commands.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="show the documentation of one rule")
    explain.add_argument("rule", help="a code (ORM101) or a name (query-in-loop)")

    docs = commands.add_parser("docs", help="write docs/rules.md and docs/rules/*.md from the catalogue")
    docs.add_argument("--output", default="docs", help="docs folder (default: docs)")
    docs.add_argument("--check", action="store_true", help="fail when the pages are stale instead of writing")
    return parser


def _progress() -> Callable[[str], None]:
    """Progress lines on a terminal; nothing when stderr is piped or redirected."""
    if not sys.stderr.isatty():
        return lambda _: None
    return lambda message: print(f"orm-lint: {message}...", file=sys.stderr, flush=True)


def _check(args: argparse.Namespace) -> int:
    analysis = analyse(args)
    findings, problems, files = analysis.findings, analysis.problems, len(analysis.files)
    if args.format == "json":
        print(
            render_json(
                findings, problems, files, analysis.engines, analysis.mypy_errors, analysis.migrations_not_reviewed
            )
        )
    elif args.format == "sarif":
        print(render_sarif(findings, problems, fingerprints(findings)))
    elif args.format == "github":
        output = render_github(findings, problems)
        if output:
            print(output)
    else:
        for problem in problems:
            print(f"{problem.path}: {problem.message}", file=sys.stderr)
        if analysis.hidden_by_baseline:
            print(f"orm-lint: {analysis.hidden_by_baseline} known findings hidden by the baseline", file=sys.stderr)
        print(render_text(findings, problems, files))
        if analysis.migrations_not_reviewed:
            print(f"orm-lint: {not_reviewed_note(analysis.migrations_not_reviewed)}")
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _report(args: argparse.Namespace) -> int:
    progress = _progress()
    analysis = analyse(args, progress)
    progress("counting good patterns")
    patterns = find_good_patterns(analysis.files, analysis.settings)
    if analysis.changes is not None:
        patterns = [p for p in patterns if analysis.changes.covers_line(p.path, p.line, p.cell)]
    review = Review(
        paths=args.paths,
        files=analysis.files,
        findings=analysis.findings,
        problems=analysis.problems,
        engines=analysis.engines,
        good_patterns=patterns,
        day=datetime.date.today(),
        mypy_errors=analysis.mypy_errors,
        changes=analysis.changes,
        baseline=args.baseline,
        hidden_by_baseline=analysis.hidden_by_baseline,
        migrations_not_reviewed=analysis.migrations_not_reviewed,
    )
    place = write_review(review, Path(args.output), args.force, progress)
    pages = f" and {len(analysis.findings)} finding pages in {place.folder}" if analysis.findings else ""
    print(f"wrote {place.summary}{pages}")
    return EXIT_CLEAN


def _baseline(args: argparse.Namespace) -> int:
    analysis = analyse(args)
    target = Path(args.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, baseline_document(analysis.findings), target.parent)
    print(f"wrote {target}: {len(analysis.findings)} findings recorded")
    return EXIT_CLEAN


def _rules(args: argparse.Namespace) -> int:
    load_settings()  # the project's own rules and severity overrides are listed too
    rules = all_rules()
    if args.format == "json":
        data = [
            {
                "code": r.code,
                "name": r.name,
                "problem": r.problem,
                "category": r.category.value,
                "severity": r.severity.value,
                "priority": r.severity.priority,
                "frameworks": [f.value for f in r.frameworks],
                "engine": r.engine.value,
                "summary": r.summary,
                "message": r.message,
            }
            for r in rules
        ]
        print(json.dumps(data, indent=2))
    else:
        for r in rules:
            print(f"{r.code}  {r.name:32} {r.severity.value:8} {r.engine.value:6} {r.summary}")
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    load_settings()
    rule = find_rule(args.rule)
    if rule is None:
        print(f"orm-lint: error: no rule {args.rule!r}; `orm-lint rules` lists them", file=sys.stderr)
        return EXIT_ERROR
    print(rule_page(rule).split("\n", 1)[1].strip())
    return EXIT_CLEAN


def _docs(args: argparse.Namespace) -> int:
    folder = Path(args.output)
    if args.check:
        stale = stale_docs(folder)
        for name in stale:
            print(f"orm-lint: {folder / name} is stale; run `orm-lint docs`", file=sys.stderr)
        return EXIT_FINDINGS if stale else EXIT_CLEAN
    for path in write_docs(folder):
        print(f"wrote {path}")
    return EXIT_CLEAN


_COMMANDS = {
    "check": _check,
    "report": _report,
    "baseline": _baseline,
    "rules": _rules,
    "explain": _explain,
    "docs": _docs,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ConfigError, UsageError, DiffError, BaselineError, WriteError) as error:
        print(f"orm-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:  # `orm-lint explain X | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except Exception as error:  # no traceback reaches the user unless asked for
        if os.environ.get("ORM_LINT_DEBUG"):
            raise
        print(
            f"orm-lint: internal error: {error!r} (set ORM_LINT_DEBUG=1 for details; please report it)", file=sys.stderr
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
