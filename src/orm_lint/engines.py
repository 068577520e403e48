"""Running the engines over files: discovery, parsing, `# noqa`, parallel workers.

The syntax engine runs in-process (in worker processes for large trees). It never
imports or executes the analysed code.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from .cache import FileResult, ResultCache, content_digest, read_stamped
from .config import Settings, ignored_in_file, path_matches, rule_enabled
from .files import decode, text_lines, walk
from .flake8_plugin.analysis import analyze
from .flake8_plugin.queries import CONSULTED
from .notebooks import NOTEBOOK_SUFFIX, NotebookError, NotebookSource
from .project import adopt, indexes_for
from .findings import FileProblem, Finding, GoodPattern
from .sources import display_path, load_source

SOURCE_SUFFIXES = (".py", ".pyw", NOTEBOOK_SUFFIX)
# flake8's own syntax: `# noqa` silences every code, `# noqa: ORM101,ORM2` the listed ones.
NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_PARALLEL_THRESHOLD = 40
_NOT_DECODABLE = (
    "Python cannot decode the file, so it was checked as flake8 reads it (latin-1) and left out of the mypy run"
)
# Collector thresholds while the engine runs (see `_few_collections`).
_GC_THRESHOLDS = (50_000, 20, 100)


def discover(paths: Sequence[str], exclude: Sequence[str]) -> list[Path]:
    """Python files under the given paths, less what `exclude` and `.gitignore` say, in a stable order.

    A file named on the command line is checked unless `exclude` matches it (see files.py for folders).
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if not _excluded(path, exclude):
                found.append(path)
            continue
        found.extend(walk(path, SOURCE_SUFFIXES, lambda candidate: _excluded(candidate, exclude)))
    return sorted(set(found))


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    return bool(patterns) and path_matches(path.as_posix().removeprefix("./"), patterns)


def suppressed_by_noqa(finding: Finding, lines: list[str]) -> bool:
    """A `# noqa` on the finding's first or last line names its code, or no code."""
    for number in {finding.line, finding.end_line}:
        if 0 < number <= len(lines):
            match = NOQA.search(lines[number - 1])
            if match:
                codes = match.group("codes")
                if not codes:
                    return True
                if any(finding.code.startswith(c.upper()) for c in re.split(r"[,\s]+", codes) if c):
                    return True
    return False


def _place(notebook: NotebookSource | None, line: int) -> str:
    if notebook is None:
        return f"line {line}"
    cell, within = notebook.origin(line)
    return f"cell {cell}, line {within}"


def _located(finding: Finding, notebook: NotebookSource | None) -> Finding:
    """A notebook finding moved from the joined text to its cell: `line` counts within the cell."""
    if notebook is None:
        return finding
    cell, line = notebook.origin(finding.line)
    end_cell, end_line = notebook.origin(finding.end_line)
    if end_cell != cell:
        end_line = line
    return replace(finding, line=line, end_line=end_line, cell=cell)


def check_file(
    path: Path, settings: Settings = Settings(), data: bytes | None = None, good: list[GoodPattern] | None = None
) -> tuple[list[Finding], list[FileProblem]]:
    """The syntax engine's findings in one file, or the one problem that kept it from being checked.

    A file Python cannot decode is checked as flake8 reads it, and named as a problem too.
    `good`, when given, receives the file's good patterns (for the review), counted on the same walk.
    """
    shown = display_path(path)
    problems: list[FileProblem] = []
    try:
        if path.suffix.lower() == NOTEBOOK_SUFFIX:
            text, notebook = load_source(path, data)
        else:
            text, undecodable = decode(path.read_bytes() if data is None else data)
            notebook = None
            if undecodable is not None:  # flake8 checks it anyway; mypy and Python cannot read it
                problems.append(FileProblem(shown, f"{_NOT_DECODABLE} ({undecodable})"))
    except NotebookError as error:
        return [], [FileProblem(shown, f"cannot read the notebook: {error}; it was not checked")]
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError) as error:
        return [], [FileProblem(shown, f"cannot read the file: {error}")]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=shown)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        if isinstance(error, RecursionError):
            return [], [FileProblem(shown, "the file is nested too deeply to parse; it was not checked")]
        where = f" ({_place(notebook, error.lineno)})" if isinstance(error, SyntaxError) and error.lineno else ""
        reason = error.msg if isinstance(error, SyntaxError) else str(error) or type(error).__name__
        hint = ""
        if isinstance(error, SyntaxError):
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            hint = f" (if it uses syntax newer than Python {version}, run orm-lint with a newer Python)"
        return [], [FileProblem(shown, f"cannot parse the file{where}: {reason}; it was not checked{hint}")]
    counted: list[tuple[str, ast.AST, int]] | None = [] if good is not None else None
    try:
        reports = analyze(tree, shown, settings, text, good_patterns=counted)
    except RecursionError:
        return [], [FileProblem(shown, "the file is nested too deeply to analyse; it was not checked")]
    except Exception as error:  # an orm-lint bug must not stop the run
        return [], [FileProblem(shown, f"internal error in orm-lint ({error!r}); please report it")]
    if good is not None and counted:
        good.extend(_good_pattern(shown, kind, node, last, notebook) for kind, node, last in counted)
    lines = text_lines(text) if reports else []  # for `# noqa`; most files have nothing to report
    findings = []
    for report in reports:
        node = report.node
        end = report.end_node or node
        finding = Finding(
            path=shown,
            line=node.lineno,  # type: ignore[attr-defined]
            column=node.col_offset + 1,  # type: ignore[attr-defined]
            end_line=getattr(end, "end_lineno", None) or node.lineno,  # type: ignore[attr-defined]
            end_column=(getattr(end, "end_col_offset", None) or node.col_offset) + 1,  # type: ignore[attr-defined]
            code=report.rule.code,
            message=report.rule.format_message(**report.values),
            engine="flake8",
            lowered_by=report.lowered_by,
            framework=report.framework,
            function=report.function,
            model=report.model,
            attribute=report.attribute,
            operation=report.operation,
            fix=report.fix,
            table_created_in=report.table_created_in,
        )
        if not suppressed_by_noqa(finding, lines):
            findings.append(_located(finding, notebook))
    return findings, problems


def _good_pattern(shown: str, kind: str, node: ast.AST, last: int, notebook: NotebookSource | None) -> GoodPattern:
    line = getattr(node, "lineno", 1)
    if notebook is None:
        return GoodPattern(kind, shown, line, end_line=last)
    (cell, within), (_, end) = notebook.origin(line), notebook.origin(last)
    return GoodPattern(kind, shown, within, cell, end)


def _check_stamped(name: str, settings: Settings, count_good: bool = True) -> FileResult:
    """check_file, plus the file's stamp and content hash for the results cache, and its good patterns
    (when the review or the cache wants them)."""
    good: list[GoodPattern] = []
    wanted = good if count_good else None
    try:
        stamp, data = read_stamped(name)
    except OSError:  # check_file says why it cannot be read
        return FileResult(name, *check_file(Path(name), settings, good=wanted), good_patterns=good)
    CONSULTED.clear()
    findings, problems = check_file(Path(name), settings, data, wanted)
    return FileResult(name, findings, problems, stamp, content_digest(data), good, sorted(CONSULTED))


def _check_batch(
    batch: list[str], settings: Settings, done: Callable[[int], None] = lambda _: None, count_good: bool = True
) -> list[FileResult]:
    results = []
    for name in batch:
        results.append(_check_stamped(name, settings, count_good))
        done(1)
    return results


def _check_batch_in_worker(batch: list[str], settings: Settings, count_good: bool) -> list[FileResult]:
    with _few_collections():
        return _check_batch(batch, settings, count_good=count_good)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run with a lazy cyclic garbage collector, then restore its thresholds.

    A parsed module is up to hundreds of thousands of objects that live until the file is done; at
    Python's default thresholds the collector scans them again and again (6-9 % of the engine's
    time on Django's source). Syntax trees hold no reference cycles, so reference counting frees
    them anyway; only the rare cycles wait a little longer.
    """
    before = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _check_files(
    files: list[Path], settings: Settings, jobs: int | None, done: Callable[[int], None], count_good: bool
) -> list[FileResult]:
    workers = jobs or settings.jobs or os.cpu_count() or 1
    if workers <= 1 or len(files) < _PARALLEL_THRESHOLD:
        return _check_batch([str(f) for f in files], settings, done, count_good)
    batches = [[str(f) for f in files[i :: workers * 4]] for i in range(workers * 4)]
    from concurrent.futures import ProcessPoolExecutor  # only large runs pay for importing it

    # The project indexes are built here, once, and handed to the workers rather than built by each of them.
    indexes = indexes_for([str(f) for f in files], settings.cache_dir)
    results: list[FileResult] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=adopt, initargs=(indexes,)) as pool:
            work = pool.map(_check_batch_in_worker, batches, [settings] * len(batches), [count_good] * len(batches))
            for batch_results in work:
                results.extend(batch_results)
                done(len(batch_results))
    except (OSError, RuntimeError):  # no process support here: run in this process
        return _check_batch([str(f) for f in files], settings, done, count_good)
    return results


def run_syntax_engine(
    files: list[Path],
    settings: Settings,
    jobs: int | None = None,
    cache: ResultCache | None = None,
    done: Callable[[int], None] = lambda _: None,
    good: list[GoodPattern] | None = None,
) -> tuple[list[Finding], list[FileProblem]]:
    """Findings of the flake8-side rules for every file, using worker processes when it pays.

    With a `cache`, files whose results it holds are not read again, and fresh results are stored in it.
    `done(n)` is told as files are finished (the progress display); `good` receives the good patterns,
    which are only counted when it is given or the cache keeps them.
    """
    with _few_collections():
        known, pending = cache.lookup(files) if cache is not None else ([], files)
        done(len(known))
        fresh = _check_files(pending, settings, jobs, done, good is not None or cache is not None)
        if cache is not None:
            cache.store(fresh)
            cache.save()
    findings = [finding for result in (*known, *fresh) for finding in result.findings]
    problems = [problem for result in (*known, *fresh) for problem in result.problems]
    if good is not None:
        good.extend(sorted({pattern for result in (*known, *fresh) for pattern in result.good_patterns}))
    return findings, problems


def selected(
    findings: Iterable[Finding], select: Sequence[str], ignore: Sequence[str], settings: Settings = Settings()
) -> Iterator[Finding]:
    """flake8's prefix rules: the longest matching prefix between select and ignore wins.

    `settings` adds its `per-path-ignores` (the syntax engine applied them already; mypy's findings need them).
    """
    choice = Settings(select=tuple(select), ignore=tuple(ignore))
    return (
        finding
        for finding in findings
        if rule_enabled(finding.code, choice) and not finding.code.startswith(ignored_in_file(finding.path, settings))
    )


def merge_engines(syntax: list[Finding], typed: list[Finding]) -> list[Finding]:
    """Both engines' findings, one per place and problem: the type-aware one wins."""
    places = {(f.path, f.line, f.rule.problem): f for f in syntax}
    # mypy's findings come as text: the syntax finding at the same place says where it is (framework, function).
    typed = [_placed_like(f, places.get((f.path, f.line, f.rule.problem))) for f in typed]
    taken = {(f.path, f.line, f.rule.problem) for f in typed}
    return [*typed, *(f for f in syntax if (f.path, f.line, f.rule.problem) not in taken)]


def _placed_like(finding: Finding, place: Finding | None) -> Finding:
    if place is None:
        return finding
    return replace(finding, framework=finding.framework or place.framework, function=finding.function or place.function)
