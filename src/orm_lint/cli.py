"""The `orm-lint` command: check, rules, explain, docs.

Exit status: 0 no findings, 1 findings, 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .catalogue import RULES, Engine, find_rule
from .config import ConfigError, load_settings
from .engines import discover, merge_engines, run_syntax_engine, selected
from .mypy_engine import mypy_available, run_mypy
from .report.formats import render_json, render_text
from .rule_docs import rule_page, stale_docs, write_docs

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# mypy error code (`orm-lazy-load-per-item`) -> catalogue code, without importing mypy here.
RULE_CODE_BY_MYPY_CODE = {f"orm-{r.name}": r.code for r in RULES if r.engine is Engine.MYPY}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orm-lint", description="Find database and ORM problems in Python code before production does."
    )
    parser.add_argument("--version", action="version", version=f"orm-lint {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="analyse files and report findings")
    check.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    check.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="glob of paths to skip (repeatable)"
    )
    check.add_argument("--select", help="comma-separated code prefixes to report (default: all)")
    check.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--no-mypy", action="store_true", help="run the syntax engine only")
    check.add_argument("--mypy-config-file", metavar="FILE", help="mypy configuration to use (default: the project's)")
    check.add_argument("--jobs", type=int, help="worker processes (default: one per core)")

    rules = commands.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="show the documentation of one rule")
    explain.add_argument("rule", help="a code (ORM101) or a name (query-in-loop)")

    docs = commands.add_parser("docs", help="write docs/rules.md and docs/rules/*.md from the catalogue")
    docs.add_argument("--output", default="docs", help="docs folder (default: docs)")
    docs.add_argument("--check", action="store_true", help="fail when the pages are stale instead of writing")
    return parser


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())


def _check(args: argparse.Namespace) -> int:
    settings = load_settings()
    for warning in settings.warnings:
        print(f"orm-lint: warning: {warning}", file=sys.stderr)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"orm-lint: error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_ERROR
    if args.jobs is not None and args.jobs < 1:
        print("orm-lint: error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    exclude = [*settings.exclude, *args.exclude]
    files = discover(args.paths, exclude)
    findings, problems = run_syntax_engine(files, settings, args.jobs)
    engines = ["flake8"]
    other_mypy_errors = 0
    if not args.no_mypy and files:
        if mypy_available():
            unparseable = [p.path for p in problems]
            outcome = run_mypy(args.paths, exclude, args.mypy_config_file, RULE_CODE_BY_MYPY_CODE, unparseable)
            findings = merge_engines(findings, outcome.findings)
            problems += outcome.problems
            other_mypy_errors = outcome.other_errors
            if outcome.ran:
                engines.append("mypy")
        else:
            print(
                "orm-lint: warning: mypy is not installed, type-aware rules skipped "
                "(pip install 'orm-lint[mypy]', or pass --no-mypy)",
                file=sys.stderr,
            )
    select = _codes(args.select) or settings.select
    ignore = _codes(args.ignore) or settings.ignore
    findings = sorted(set(selected(findings, select, ignore)))
    problems = sorted(problems)
    if args.format == "json":
        print(render_json(findings, problems, len(files), engines, other_mypy_errors))
    else:
        for problem in problems:
            print(f"{problem.path}: {problem.message}", file=sys.stderr)
        print(render_text(findings, problems, len(files)))
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _rules(args: argparse.Namespace) -> int:
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
            for r in RULES
        ]
        print(json.dumps(data, indent=2))
    else:
        for r in RULES:
            print(f"{r.code}  {r.name:32} {r.severity.value:8} {r.engine.value:6} {r.summary}")
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
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


_COMMANDS = {"check": _check, "rules": _rules, "explain": _explain, "docs": _docs}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ConfigError as error:
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
