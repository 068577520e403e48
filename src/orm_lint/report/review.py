"""`orm-lint report`: a database review a team lead can hand to the team.

The summary (`database-review-DAY.md`) gives the scope, counts by priority and category,
a score, the good patterns counted in the code, prioritized action items and a checklist;
one page per finding (`database-review-DAY/finding-NNN-<slug>.md`) shows the real code,
the change to make, why it helps, the steps and how to test the fix. What a rule says
comes from the catalogue, so the rules, their docs and the report never disagree.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..catalogue import Category, Engine, Example, Rule, Severity
from ..diff import ChangedLines
from ..findings import PATTERNS, FileProblem, Finding, GoodPattern
from ..frameworks.kinds import DBAPI, DJANGO, SQLALCHEMY, family
from ..sources import source_lines
from ..migration_scope import not_reviewed_note
from ..tests_scope import not_checked_note
from ..notebooks import NOTEBOOK_SUFFIX
from .index_advice import index_advice_lines
from .writer import ReportPlace, WriteError, atomic_write, claim_report, finding_folder, slug

CATEGORY_TITLES = {
    Category.SECURITY: "Security",
    Category.PERFORMANCE: "Performance",
    Category.SCHEMA: "Schema and data integrity",
    Category.MIGRATIONS: "Migrations",
    Category.CORRECTNESS: "Correctness",
}
# Points taken from 100 per finding; written under the score so it can be checked by hand.
SCORE_WEIGHTS = {Severity.CRITICAL: 15, Severity.HIGH: 6, Severity.MEDIUM: 3, Severity.LOW: 1}
PRIORITY_ADVICE = {
    Severity.CRITICAL: "fix before the next release",
    Severity.HIGH: "fix soon",
    Severity.MEDIUM: "plan these into the next iterations",
    Severity.LOW: "tidy up when you are in the code anyway",
}
# What is at stake, by category: a correctness finding does not get slower, it is wrong.
CATEGORY_STAKES = {
    Category.SECURITY: "the database runs what the input says",
    Category.PERFORMANCE: "the cost grows with the data",
    Category.SCHEMA: "the cost or the risk grows with the table",
    Category.MIGRATIONS: "the deploy can lock or break the table",
    Category.CORRECTNESS: "the code gives a wrong result or raises",
}
FRAMEWORK_TITLES = {DJANGO: "Django", SQLALCHEMY: "SQLAlchemy"}
# Problems whose fix is proven by counting statements (2 rows vs 10 rows).
STATEMENT_COUNT_PROBLEMS = frozenset({"n_plus_one", "query_in_loop"})
CONTEXT_LINES = 3
_SHOWN_PLACES = 5

DJANGO_TEST = """\
from django.test import TestCase


class {test_class}(TestCase):
    def test_statement_count_does_not_grow_with_rows(self):
        # Create 2 rows the code reads, then run it once to learn the count N.
        with self.assertNumQueries(N):
            {call}
        # Create 8 more rows: the count must stay N.
        with self.assertNumQueries(N):
            {call}


# The same with pytest-django:
def test_statement_count_does_not_grow_with_rows(django_assert_num_queries):
    with django_assert_num_queries(N):
        {call}
"""
SQLALCHEMY_TEST = """\
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def count_statements(engine):
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def test_statement_count_does_not_grow_with_rows(session):
    # Add 2 rows the code reads.
    with count_statements(session.get_bind()) as few:
        {call}
    # Add 8 more rows: the count must not change.
    with count_statements(session.get_bind()) as many:
        {call}
    assert len(many) == len(few)
"""


@dataclass
class Review:
    """Everything one report is written from."""

    paths: Sequence[str]
    files: Sequence[Path]
    findings: Sequence[Finding]
    problems: Sequence[FileProblem]
    engines: Sequence[str]
    good_patterns: Sequence[GoodPattern]
    day: datetime.date
    mypy_errors: int = 0
    changes: ChangedLines | None = None
    baseline: str | None = None
    hidden_by_baseline: int = 0
    migrations_not_reviewed: int = 0
    tests_not_checked: int = 0
    ordered: list[Finding] = field(init=False)
    frameworks: frozenset[str] = field(init=False)  # the ORM families the engines saw: `django`, `sqlalchemy`

    def __post_init__(self) -> None:
        severities = list(Severity)
        self.ordered = sorted(self.findings, key=lambda f: (severities.index(f.severity), f.sort_key))
        self.frameworks = frozenset(family(f.framework) for f in self.findings) & {DJANGO, SQLALCHEMY}
        # A loop or an endpoint with a finding in it is not a habit to praise.
        self.good_patterns = [
            p for p in self.good_patterns if not any(p.holds(f.path, f.cell, f.line) for f in self.findings)
        ]


# -- markdown helpers --------------------------------------------------------------------
def plain(text: str) -> str:
    """Text from the analysed code or a file name, safe inside markdown prose and tables."""
    text = "".join("\N{REPLACEMENT CHARACTER}" if unicodedata.category(c).startswith("C") else c for c in text)
    return re.sub(r"([\\`*_\[\]<>|#{}!~])", r"\\\1", text)


def code_span(text: str) -> str:
    text = "".join("\N{REPLACEMENT CHARACTER}" if unicodedata.category(c).startswith("C") else c for c in text)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def code_block(text: str, language: str = "python") -> str:
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def score(findings: Sequence[Finding]) -> tuple[int, str]:
    """The 0-100 score and the formula with this review's numbers."""
    counts = Counter(f.severity for f in findings)
    taken = sum(SCORE_WEIGHTS[s] * counts[s] for s in Severity)
    terms = " − ".join(f"{SCORE_WEIGHTS[s]} × {counts[s]}" for s in Severity)
    return max(0, 100 - taken), f"max(0, 100 − {terms}) = {max(0, 100 - taken)}"


# -- the place of a finding ------------------------------------------------------------
def _current_code(finding: Finding) -> str | None:
    lines = source_lines(finding.path, finding.cell)
    if not lines or finding.line > len(lines):
        return None
    last = min(len(lines), max(finding.line, finding.end_line))
    first, end = max(1, finding.line - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES)
    width = len(str(end))
    shown = []
    for number in range(first, end + 1):
        marker = ">" if finding.line <= number <= last else " "
        shown.append(f"{marker} {number:>{width}} | {lines[number - 1]}".rstrip())
    return "\n".join(shown)


# -- pages ---------------------------------------------------------------------------------
def _file_name(number: int, finding: Finding) -> str:
    stem = Path(finding.path).name.removesuffix(Path(finding.path).suffix)
    return f"finding-{number:03d}-{slug(f'{finding.rule.name} {stem}')}.md"


def _engine_label(finding: Finding) -> str:
    return "mypy plugin (types)" if finding.engine == Engine.MYPY.value else "syntax checks (flake8 plugin)"


def _frameworks(finding: Finding, review_frameworks: frozenset[str]) -> list[str]:
    """The framework families (`django`, `sqlalchemy`) to show this finding's examples and test in: its own, as
    the engine decided it; for a finding without one (the mypy plugin's), those of the reviewed code."""
    own = family(finding.framework)
    if own in {DJANGO, SQLALCHEMY}:
        return [own]
    if own == DBAPI:  # a driver used directly: its statements are counted through the ORM the project uses
        return sorted(review_frameworks)[:1]
    return sorted(review_frameworks) or [DJANGO, SQLALCHEMY]


def example_for(rule: Rule, framework: str, operation: str | None) -> Example | None:
    """The rule's example pair in this framework family: the one about the finding's call if there is one."""
    pairs = [e for e in rule.examples if family(e.framework.value.replace("_", "-")) == framework]
    return next((e for e in pairs if operation and e.operation == operation), None) or next(
        (e for e in pairs if not e.operation), None
    )


def _test_section(finding: Finding, rule: Rule, frameworks: list[str]) -> list[str]:
    parts = ["## How to test the fix", "", rule.docs.how_to_test]
    if rule.problem not in STATEMENT_COUNT_PROBLEMS:
        return parts
    function = finding.function
    call = (
        f"{function.rsplit('.', 1)[-1]}(...)  # {function} in {finding.path}" if function else "...  # the code above"
    )
    test_class = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", function or "") if part)
    for name in frameworks:
        if name == DJANGO:
            parts += ["", "A test for Django (`assertNumQueries`, or `django_assert_num_queries` in pytest-django):"]
            template = DJANGO_TEST.replace("{test_class}", f"{test_class or 'Statement'}CountTests")
        else:
            parts += ["", "A test for SQLAlchemy (a `before_cursor_execute` event listener counts the statements):"]
            template = SQLALCHEMY_TEST
        parts += ["", code_block(template.replace("{call}", call))]
    return parts


def _change_section(finding: Finding, rule: Rule, frameworks: list[str], place: str) -> list[str]:
    lines = ["## The recommended change", ""]
    if finding.fix:
        lines += [f"At {place}: **{plain(finding.fix)}**.", ""]
    examples = [(name, example_for(rule, name, finding.operation)) for name in frameworks]
    shown = [(name, example) for name, example in examples if example is not None]
    if not shown:
        wanted = " or ".join(FRAMEWORK_TITLES[name] for name in frameworks)
        return [*lines, f"The catalogue has no {wanted} example of this rule; the steps below say what to change."]
    for name, example in shown:
        lines += [
            f"The same change in a {FRAMEWORK_TITLES[name]} example. Before:",
            "",
            code_block(example.bad),
            "",
            "After:",
            "",
            code_block(example.good),
            "",
        ]
    return lines[:-1]


def finding_page(
    number: int, finding: Finding, summary_name: str, review_frameworks: frozenset[str] = frozenset()
) -> str:
    rule = finding.rule
    frameworks = _frameworks(finding, review_frameworks)
    severity = finding.severity
    place = code_span(finding.location)
    lines = [
        f"# Finding {number:03d}: {rule.code} `{rule.name}` ({severity.priority}, {severity.value})",
        "",
        f"[Back to the review summary](../{summary_name})",
        "",
        rule.summary,
        "",
        "| | |",
        "|---|---|",
        f"| location | {place} (column {finding.column}) |",
        f"| rule | {rule.code} `{rule.name}` |",
        f"| priority | {severity.priority} ({severity.value}): {PRIORITY_ADVICE[severity]}; "
        f"{CATEGORY_STAKES[rule.category]} |",
        f"| category | {CATEGORY_TITLES[rule.category]} |",
        f"| found by | {_engine_label(finding)} |",
        "",
        "## What orm-lint noticed",
        "",
        f"> {plain(finding.message)}",
        "",
        rule.docs.what_it_does,
        "",
        "## The current code",
        "",
    ]
    current = _current_code(finding)
    lines.append(code_block(current, "text") if current else "(the file could not be read while writing this report)")
    lines += ["", *_change_section(finding, rule, frameworks, place), ""]
    lines += [
        "## Why it helps",
        "",
        rule.docs.why_bad,
        "",
        "## How to implement it",
        "",
        *(f"{n}. {step}" for n, step in enumerate(rule.docs.fix_steps, 1)),
        "",
        *_test_section(finding, rule, frameworks),
        "",
        "## References",
        "",
        *(f"- <{reference}>" for reference in rule.docs.references),
        f"- `orm-lint explain {rule.code}` prints the rule's full page.",
        "",
        f"When the code is right as it is, `# noqa: {rule.code}` on the line keeps it quiet.",
        "",
    ]
    return "\n".join(lines)


def _scope_lines(review: Review) -> list[str]:
    notebooks = sum(1 for f in review.files if f.suffix.lower() == NOTEBOOK_SUFFIX)
    kinds = f" ({len(review.files) - notebooks} Python files, {notebooks} notebooks)" if notebooks else ""
    engines = " and ".join("mypy plugin (types)" if e == "mypy" else "syntax checks" for e in review.engines)
    lines = [
        "## Scope",
        "",
        f"- Paths: {', '.join(code_span(p) for p in review.paths)}",
        f"- Files analysed: {len(review.files)}{kinds}",
        f"- Engines: {engines}",
    ]
    if review.changes is not None:
        changes = review.changes
        lines.append(
            f"- Branch: {code_span(changes.branch)}, reviewing the lines changed since {code_span(changes.base)} "
            f"({code_span(changes.base_commit)}), untracked files included"
        )
    if review.baseline:
        lines.append(f"- Baseline: {code_span(review.baseline)} hides {review.hidden_by_baseline} known findings")
    if review.migrations_not_reviewed:
        lines.append(f"- Migrations: {plain(not_reviewed_note(review.migrations_not_reviewed))}")
    if review.tests_not_checked:
        lines.append(f"- Tests: {plain(not_checked_note(review.tests_not_checked))}")
    if review.mypy_errors:
        lines.append(f"- mypy's own type errors (not database findings, not counted here): {review.mypy_errors}")
    if review.problems:
        lines.append(f"- Files that could not be analysed: {len(review.problems)}")
        lines += [f"  - {code_span(p.path)}: {plain(p.message)}" for p in review.problems]
    return lines


def _category_lines(findings: Sequence[Finding]) -> list[str]:
    counts = Counter(f.rule.category for f in findings)
    lines = ["## Findings by category", "", "| category | findings |", "|---|---|"]
    lines += [f"| {title} | {counts[category]} |" for category, title in CATEGORY_TITLES.items()]
    if findings:
        lines += ["", "```mermaid", "pie showData title Findings by category"]
        lines += [f'    "{title}" : {counts[c]}' for c, title in CATEGORY_TITLES.items() if counts[c]]
        lines.append("```")
    return lines


def _pattern_lines(review: Review) -> list[str]:
    by_kind: dict[str, list[GoodPattern]] = {kind: [] for kind in PATTERNS}
    for pattern in review.good_patterns:
        by_kind[pattern.kind].append(pattern)
    where = "in the changed lines" if review.changes is not None else "in the analysed files"
    lines = [
        "## Good patterns found",
        "",
        f"Counted {where}, each by the rule written beside it; nothing here is estimated.",
        "",
        "| pattern | count | what is counted | where |",
        "|---|---|---|---|",
    ]
    for kind, (title, counted) in PATTERNS.items():
        places = by_kind[kind]
        shown = ", ".join(code_span(p.location) for p in places[:_SHOWN_PLACES])
        if len(places) > _SHOWN_PLACES:
            shown += f" and {len(places) - _SHOWN_PLACES} more"
        lines.append(f"| {title} | {len(places)} | {counted} | {shown or '-'} |")
    lines.append("")
    if review.good_patterns:
        lines.append("These are already the habits this review recommends: well done, keep them.")
    else:
        lines.append("None of these patterns show up yet; the action items below are a good place to start.")
    return lines


def _action_lines(review: Review, links: dict[int, str]) -> list[str]:
    lines = ["## Action items", ""]
    if not review.files:
        return [*lines, "Nothing to review: no Python files or notebooks were found under the given paths."]
    if not review.ordered:
        return [*lines, "Nothing to do: orm-lint found no database problems in the reviewed code. Great work!"]
    number = 0
    for severity in Severity:
        members = [(i, f) for i, f in enumerate(review.ordered) if f.severity is severity]
        if not members:
            continue
        lines += [f"### {severity.priority} ({severity.value}): {PRIORITY_ADVICE[severity]}", ""]
        for index, finding in members:
            number += 1
            rule = finding.rule
            lines.append(
                f"{number}. [{rule.code} `{rule.name}`]({links[index]}) at {code_span(finding.location)}: "
                f"{plain(finding.message)}"
            )
        lines.append("")
    return lines[:-1]


def _checklist_lines(review: Review) -> list[str]:
    lines = ["## Checklist", ""]
    per_rule = Counter(f.code for f in review.ordered)
    for code in dict.fromkeys(f.code for f in review.ordered):
        rule = review.ordered[[f.code for f in review.ordered].index(code)].rule
        places = "place" if per_rule[code] == 1 else "places"
        lines.append(
            f"- [ ] {rule.code} `{rule.name}` ({per_rule[code]} {places}): fixed, with a test as the finding page shows"
        )
    if "mypy" not in review.engines:
        lines.append(
            "- [ ] Run the review with mypy too (no `--no-mypy`, `orm-lint[mypy]` installed) for the type-aware rules"
        )
    if review.problems:
        lines.append("- [ ] Look at the files that could not be analysed (listed under Scope)")
    lines += [
        "- [ ] `orm-lint check` reports no new findings (`--diff <base>` limits it to a branch's changes)",
        "- [ ] Findings that must wait are recorded with `orm-lint baseline`, so CI reports only new ones",
        "- [ ] The review is shared with the team, and the next one is scheduled",
    ]
    return lines


def _score_lines(review: Review) -> list[str]:
    lines = ["## Score", ""]
    if not review.files:  # 100 / 100 would praise code nobody read
        return [*lines, "No score: nothing was analysed."]
    value, formula = score(review.ordered)
    weights = ", ".join(f"{SCORE_WEIGHTS[s]} per {s.priority}" for s in Severity)
    return [
        *lines,
        f"**{value} / 100**",
        "",
        f"Formula: `{formula}`. Each finding takes points from 100 ({weights}); the score stops at 0.",
    ]


def summary_page(review: Review, links: dict[int, str]) -> str:
    counts = Counter(f.severity for f in review.ordered)
    lines = [
        f"# Database review, {review.day.isoformat()}",
        "",
        f"Prepared by orm-lint {__version__}. Thank you for making time for this review: each finding has a page "
        "of its own with the real code, the recommended change, why it helps and a test that proves the fix.",
        "",
        *_scope_lines(review),
        "",
        "## Findings by priority",
        "",
        "| priority | severity | findings |",
        "|---|---|---|",
        *(f"| {s.priority} | {s.value} | {counts[s]} |" for s in Severity),
        f"| | total | {len(review.ordered)} |",
        "",
        *_category_lines(review.ordered),
        "",
        *_score_lines(review),
        "",
        *_pattern_lines(review),
        "",
        *_action_lines(review, links),
        "",
        *index_advice_lines(review.ordered),
        *_checklist_lines(review),
        "",
    ]
    return "\n".join(lines)


def write_review(
    review: Review, output: Path, force: bool = False, progress: Callable[[str], None] = lambda _: None
) -> ReportPlace:
    """Write the summary and one page per finding into `output`; returns where they went."""
    try:
        return _write(review, output, force, progress)
    except OSError as error:
        raise WriteError(f"cannot write the review into {output}: {error}") from None


def _write(review: Review, output: Path, force: bool, progress: Callable[[str], None]) -> ReportPlace:
    place = claim_report(output, review.day, force)
    links: dict[int, str] = {}
    try:
        if review.ordered:
            folder = finding_folder(place)
            total = len(review.ordered)
            for index, finding in enumerate(review.ordered):
                progress(f"writing finding {index + 1}/{total}")
                name = _file_name(index + 1, finding)
                page = finding_page(index + 1, finding, place.summary.name, review.frameworks)
                atomic_write(folder / name, page, place.root)
                links[index] = f"{place.folder.name}/{name}"
        progress("writing the summary")
        atomic_write(place.summary, summary_page(review, links), place.root)
    except BaseException:
        if not force and place.summary.is_file() and place.summary.stat().st_size == 0:
            place.summary.unlink()  # the name reserved for this run, still empty
        raise
    return place
