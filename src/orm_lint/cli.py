"""The `orm-lint` command: check, report, baseline, rules, explain, docs.

Exit status: 0 no findings, 1 findings, 2 usage or internal error (`report` and
`baseline` exit 0 once their files are written).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO
from pathlib import Path

from .baseline import DEFAULT_BASELINE, BaselineError, baseline_document, fingerprints
from .catalogue import RULES, Engine, all_rules, find_rule
from .config import MIGRATION_CHOICES, TEST_CHOICES, ConfigError, load_settings
from .diff import DiffError
from .migration_scope import not_reviewed_note
from .tests_scope import not_checked_note
from .pipeline import STDIN, Analysis, UsageError, analyse
from .progress import Progress
from .report.formats import plural, render_json, render_statistics, render_text
from .report.review import Review, write_review
from .report.sarif import render_github, render_sarif
from .report.writer import WriteError, atomic_write
from .rule_docs import DocsError, rule_page, stale_docs, write_docs
from .versions import VersionAction

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _analysis_options(command: argparse.ArgumentParser, narrowing: bool = True) -> None:
    """The options every analysing command shares; `narrowing` adds --diff and --baseline."""
    command.add_argument(
        "paths", nargs="*", default=["."], help="files or folders (default: .); `-` reads one file from stdin"
    )
    command.add_argument(
        "--stdin-filename", metavar="PATH", help="the name of the file read from stdin (`-`): paths, settings, mypy"
    )
    command.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="glob of paths to skip (repeatable)"
    )
    command.add_argument("--select", help="comma-separated code prefixes to report (default: all)")
    command.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    command.add_argument("--no-mypy", action="store_true", help="run the syntax engine only")
    command.add_argument(
        "--mypy-optional",
        action="store_true",
        help="when mypy stops (missing dependencies, a crash), say so but keep the exit status of the findings",
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress display")
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
        "--tests",
        choices=TEST_CHOICES,
        help="whether test modules are checked (default: `tests` setting, else skip)",
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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="analyse files and report findings")
    _analysis_options(check)
    check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    check.add_argument("--output-file", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings (errors still exit 2)")
    check.add_argument("--statistics", action="store_true", help="count the findings of each code (text format)")
    check.add_argument("--show-source", action="store_true", help="show each finding's source line (text format)")

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

    docs = commands.add_parser("docs", description="orm-lint's maintainers: rewrite the generated pages of docs/")
    docs.add_argument("--output", default="docs", help="docs folder (default: docs)")
    docs.add_argument("--check", action="store_true", help="fail when the pages are stale instead of writing")
    return parser


TYPE_AWARE_CODES = ", ".join(r.code for r in RULES if r.engine is Engine.MYPY)


@contextlib.contextmanager
def _output(file: str | None) -> Iterator[TextIO]:
    """Where the report goes: stdout, or `--output-file`."""
    if file is None:
        yield sys.stdout
        return
    with open(file, "w", encoding="utf-8") as handle:
        yield handle


def _analyse(args: argparse.Namespace, review: bool = False) -> Analysis:
    """Run the analysis with a progress display; say what the user should know about the run."""
    if args.stdin_filename and args.paths != [STDIN]:
        raise UsageError("--stdin-filename names the file read from stdin: give `-` as the only path")
    progress = Progress.on_terminal(args.quiet)
    try:
        analysis = analyse(args, progress, review)
    finally:
        progress.finish()
    for note in analysis.notes:
        print(f"orm-lint: note: {note}", file=sys.stderr)
    return analysis


def _not_run(analysis: Analysis) -> list[dict[str, object]]:
    if analysis.type_rules_not_run is None:
        return []
    return [{"engine": "mypy", "rules": TYPE_AWARE_CODES.split(", "), "reason": analysis.type_rules_not_run}]


def _engine_status(args: argparse.Namespace, analysis: Analysis, written: int = EXIT_CLEAN) -> int:
    """2 when mypy was to run and stopped (unless --mypy-optional), else the status the output earned."""
    return EXIT_ERROR if analysis.mypy_failed and not args.mypy_optional else written


def _check(args: argparse.Namespace) -> int:
    analysis = _analyse(args)
    with _output(args.output_file) as out:
        _write_check(args, analysis, out)
    if args.format != "text" and analysis.type_rules_not_run:
        print(f"orm-lint: error: {analysis.type_rules_not_run}", file=sys.stderr)
    findings_status = EXIT_FINDINGS if analysis.findings and not args.exit_zero else EXIT_CLEAN
    return _engine_status(args, analysis, findings_status)


def _write_check(args: argparse.Namespace, analysis: Analysis, out: TextIO) -> None:
    findings, problems, files = analysis.findings, analysis.problems, len(analysis.files)
    if args.format == "json":
        output = render_json(
            findings,
            problems,
            files,
            analysis.engines,
            analysis.mypy_errors,
            analysis.migrations_not_reviewed,
            analysis.tests_not_checked,
            not_run=_not_run(analysis),
            notes=analysis.notes,
        )
    elif args.format == "sarif":
        output = render_sarif(findings, problems, fingerprints(findings))
    elif args.format == "github":
        output = render_github(findings, problems)
    else:
        for problem in problems:
            print(f"{problem.path}: {problem.message}", file=sys.stderr)
        if analysis.hidden_by_baseline:
            hidden = plural(analysis.hidden_by_baseline, "known finding")
            print(f"orm-lint: {hidden} hidden by the baseline", file=sys.stderr)
        lines = [render_text(findings, problems, files, args.show_source)]
        if args.statistics and findings:
            lines.append(render_statistics(findings))
        if analysis.migrations_not_reviewed:
            lines.append(f"orm-lint: {not_reviewed_note(analysis.migrations_not_reviewed)}")
        if analysis.tests_not_checked:
            lines.append(f"orm-lint: {not_checked_note(analysis.tests_not_checked)}")
        if analysis.type_rules_not_run:
            lines.append(
                f"orm-lint: the type-aware rules ({TYPE_AWARE_CODES}) did not run: {analysis.type_rules_not_run}"
            )
        output = "\n".join(lines)
    if output:
        print(output, file=out)


def _report(args: argparse.Namespace) -> int:
    analysis = _analyse(args, review=True)
    progress = Progress.on_terminal(args.quiet)
    patterns = analysis.good_patterns
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
        tests_not_checked=analysis.tests_not_checked,
    )
    try:
        place = write_review(review, Path(args.output), args.force, progress)
    finally:
        progress.finish()
    pages = f" and {plural(len(analysis.findings), 'finding page')} in {place.folder}" if analysis.findings else ""
    print(f"wrote {place.summary}{pages}")
    return _engine_status(args, analysis)


def _baseline(args: argparse.Namespace) -> int:
    analysis = _analyse(args)
    target = Path(args.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, baseline_document(analysis.findings), target.parent)
    print(f"wrote {target}: {plural(len(analysis.findings), 'finding')} recorded")
    return _engine_status(args, analysis)


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
    except (ConfigError, UsageError, DiffError, BaselineError, WriteError, DocsError) as error:
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
