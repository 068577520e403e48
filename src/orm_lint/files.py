"""Which files a run reads, and how their bytes become text: the same answer for every entry point.

Discovery skips what the project says to skip, `.gitignore` (and `.git/info/exclude`) and the
`exclude` setting, plus what is never project code: version-control folders, caches, virtual
environments (recognised by their `pyvenv.cfg` or `conda-meta`, whatever their name) and
`site-packages`. A folder is not skipped for its name alone: `env/`, `build/` or `dist/` may
well hold the project's code.

Decoding is flake8's (`FileProcessor.read_lines`): the PEP 263 cookie or a BOM, else UTF-8;
latin-1 when that fails; universal newlines; no BOM. So `flake8` and `orm-lint check` see the
same text, the same lines and the same findings in every file.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

# Never project code, whatever the ignore files say.
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".eggs",
        "node_modules",
        "site-packages",
    }
)
# A folder holding one of these is an environment: installed packages, not the project.
ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
IGNORE_FILE = ".gitignore"
_UTF8_BOM_AS_LATIN1 = "\xef\xbb\xbf"


def decode(data: bytes) -> tuple[str, str | None]:
    """(the text flake8 reads from these bytes, why Python itself cannot decode them or None)."""
    problem = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeError, LookupError) as error:
        problem = str(error)
        text = data.decode("latin-1")
    text = text.removeprefix("\ufeff").removeprefix(_UTF8_BOM_AS_LATIN1)
    return text.replace("\r\n", "\n").replace("\r", "\n"), problem


def read_source(data: bytes) -> str:
    """The text flake8 reads from these bytes (see the module docstring)."""
    return decode(data)[0]


def text_lines(text: str) -> list[str]:
    """The lines as Python numbers them: split at newlines only (not at form feeds, as `splitlines` does)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def is_environment(folder: Path | str) -> bool:
    return any(os.path.exists(os.path.join(folder, marker)) for marker in ENVIRONMENT_MARKERS)


# What a listing depends on besides the files' names: path -> [mtime_ns, size] of every folder entered (an entry
# added, removed or renamed in it changes its mtime) and of every ignore file read; above the walked folder, whether
# a `.git` or an ignore file is there (_ABSENT, _PRESENT).
Watched = dict[str, list[int]]
_ABSENT = [-1, -1]
_PRESENT = [-2, -2]


def _watch(watched: Watched | None, path: str) -> None:
    if watched is None:
        return
    try:
        status = os.stat(path)
    except OSError:
        watched[path] = _ABSENT
        return
    watched[path] = [status.st_mtime_ns, status.st_size]


def _watch_presence(watched: Watched | None, path: str) -> None:
    if watched is not None:
        watched[path] = _PRESENT if os.path.exists(path) else _ABSENT


def unchanged(watched: Watched) -> bool:
    """Every path a listing depended on still has the stamp it had: the same walk would find the same files."""
    for path, (mtime_ns, size) in watched.items():
        try:
            status = os.stat(path)
        except OSError:
            if mtime_ns != _ABSENT[0]:
                return False
            continue
        if mtime_ns == _PRESENT[0]:
            continue
        if status.st_mtime_ns != mtime_ns or status.st_size != size:
            return False
    return True


@dataclass(frozen=True)
class _Rules:
    """The ignore files in force in one folder: (the folder each one sits in, its patterns), outermost first."""

    # (folder as an absolute path ending in a separator, its patterns, any of them in one regular expression)
    specs: tuple[tuple[str, GitIgnoreSpec, re.Pattern[str] | None], ...] = ()

    def ignored(self, path: str, folder: bool) -> bool:
        """git's answer for an absolute path: the last pattern that matches, in the deepest file that has one."""
        verdict = False
        for base, spec, any_pattern in self.specs:
            if not path.startswith(base):
                continue
            relative = path[len(base) :]
            if os.sep != "/":
                relative = relative.replace(os.sep, "/")
            relative = relative + "/" if folder else relative
            if any_pattern is not None and any_pattern.search(relative) is None:
                continue  # most paths match no pattern: one search instead of one per pattern
            result = spec.check_file(relative)
            if result.include is not None:
                verdict = result.include
        return verdict

    def entering(self, folder: str, watched: Watched | None = None) -> _Rules:
        ignore_file = os.path.join(folder, IGNORE_FILE)
        spec = _ignore_spec(ignore_file)
        _watch(watched, ignore_file)
        return self if spec is None else _Rules((*self.specs, (os.path.join(folder, ""), spec, _any_pattern(spec))))


def _ignore_spec(path: str) -> GitIgnoreSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    if not any(line.strip() for line in lines):
        return None
    from pathspec import GitIgnoreSpec  # discovery only: flake8's per-file runs never need it

    return GitIgnoreSpec.from_lines(lines)


def _any_pattern(spec: GitIgnoreSpec) -> re.Pattern[str] | None:
    """One expression that matches where any of the spec's patterns does (None: match pattern by pattern)."""
    try:
        parts = [
            "(?:" + pattern.regex.pattern.replace("(?P<ps_d>", "(?:") + ")"
            for pattern in spec.patterns
            if pattern.include is not None and pattern.regex is not None
        ]
        return re.compile("|".join(parts)) if parts else None
    except (AttributeError, TypeError, re.error):
        return None


def _rules_above(start: str, watched: Watched | None = None) -> _Rules:
    """The ignore files from the repository's top down to `start`'s parent (none outside git)."""
    chain = [start]
    while os.path.dirname(chain[-1]) != chain[-1]:
        chain.append(os.path.dirname(chain[-1]))
    top = next((folder for folder in chain if os.path.exists(os.path.join(folder, ".git"))), None)
    for folder in chain[: chain.index(top) + 1 if top is not None else len(chain)]:
        _watch_presence(watched, os.path.join(folder, ".git"))  # a repository made above changes what is ignored
        if folder != start:
            _watch_presence(watched, os.path.join(folder, IGNORE_FILE))
    if top is None:
        return _Rules()
    rules = _Rules()
    exclude_file = os.path.join(top, ".git", "info", "exclude")
    exclude = _ignore_spec(exclude_file)
    if exclude is not None:
        _watch(watched, exclude_file)
        rules = _Rules(((os.path.join(top, ""), exclude, _any_pattern(exclude)),))
    for folder in reversed(chain[1 : chain.index(top) + 1]):
        rules = rules.entering(folder, watched)
    return rules


def walk(
    start: Path, suffixes: Sequence[str], excluded: Callable[[Path], bool], watched: Watched | None = None
) -> Iterator[Path]:
    """The files under `start` ending in `suffixes`, less what is ignored or `excluded(path)`, in a stable order:
    each folder's files by name, then its subfolders by name, depth first.

    `start` itself was named by the user: it is walked even when an ignore file outside it covers it.
    `watched`, when given, receives the stamps the listing depends on (see `unchanged`).
    """
    suffixes = tuple(suffixes)
    absolute_start = os.path.abspath(start)
    above = _rules_above(absolute_start, watched)
    if above.ignored(absolute_start, folder=True):
        above = _Rules()  # asked for by name: only the ignore files inside it count
    stack: list[tuple[str, str, _Rules]] = [(os.fspath(start), absolute_start, above)]
    while stack:
        folder, absolute, rules = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        _watch(watched, absolute)
        if any(entry.name == IGNORE_FILE for entry in entries):
            rules = rules.entering(absolute, watched)
        subfolders: list[tuple[str, str, _Rules]] = []
        for entry in entries:
            name = entry.name
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                if name in SKIPPED_FOLDERS or name.endswith(".egg-info") or entry.is_symlink():
                    continue  # a linked folder is not entered (it may lead back up the tree)
                inner = os.path.join(absolute, name)
                if is_environment(inner):
                    _watch(watched, inner)  # no longer one when its marker goes
                    continue
                if rules.ignored(inner, folder=True) or excluded(Path(folder, name)):
                    continue
                subfolders.append((os.path.join(folder, name), inner, rules))
            elif (
                name.endswith(suffixes)
                and _readable_kind(entry)
                and not rules.ignored(os.path.join(absolute, name), folder=False)
            ):
                candidate = Path(folder, name)
                if not excluded(candidate):
                    yield candidate
        stack.extend(reversed(subfolders))


def _readable_kind(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a link (a dangling one is reported): a FIFO named x.py would block the run."""
    try:
        return entry.is_symlink() or entry.is_file()
    except OSError:
        return False
