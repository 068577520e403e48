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


def is_environment(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in ENVIRONMENT_MARKERS)


@dataclass(frozen=True)
class _Rules:
    """The ignore files in force in one folder: (the folder each one sits in, its patterns), outermost first."""

    specs: tuple[tuple[Path, GitIgnoreSpec], ...] = ()

    def ignored(self, path: Path, folder: bool) -> bool:
        """git's answer: the last pattern that matches, in the deepest file that has one, decides."""
        verdict = False
        if self.specs:
            path = Path(os.path.abspath(path))
        for base, spec in self.specs:
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            result = spec.check_file(relative + "/" if folder else relative)
            if result.include is not None:
                verdict = result.include
        return verdict

    def entering(self, folder: Path) -> _Rules:
        spec = _ignore_spec(folder / IGNORE_FILE)
        return self if spec is None else _Rules((*self.specs, (folder, spec)))


def _ignore_spec(path: Path) -> GitIgnoreSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if not any(line.strip() for line in lines):
        return None
    from pathspec import GitIgnoreSpec  # discovery only: flake8's per-file runs never need it

    return GitIgnoreSpec.from_lines(lines)


def _rules_above(start: Path) -> _Rules:
    """The ignore files from the repository's top down to `start`'s parent (none outside git)."""
    absolute = Path(os.path.abspath(start))
    chain = [absolute, *absolute.parents]
    top = next((folder for folder in chain if (folder / ".git").exists()), None)
    if top is None:
        return _Rules()
    rules = _Rules()
    exclude = _ignore_spec(top / ".git" / "info" / "exclude")
    if exclude is not None:
        rules = _Rules(((top, exclude),))
    for folder in reversed(chain[1 : chain.index(top) + 1]):
        rules = rules.entering(folder)
    return rules


def walk(start: Path, suffixes: Sequence[str], excluded: Callable[[Path], bool]) -> Iterator[Path]:
    """The files under `start` ending in `suffixes`, less what is ignored or `excluded(path)`, in a stable order.

    `start` itself was named by the user: it is walked even when an ignore file outside it covers it.
    """
    above = _rules_above(start)
    absolute_start = Path(os.path.abspath(start))
    if above.ignored(absolute_start, folder=True):
        above = _Rules()  # asked for by name: only the ignore files inside it count
    rules_by_folder = {os.fspath(start): above.entering(absolute_start)}
    for folder, dirnames, filenames in os.walk(start):
        rules = rules_by_folder.pop(folder)
        here = Path(folder)
        kept = []
        for name in sorted(dirnames):
            candidate = here / name
            if (
                name in SKIPPED_FOLDERS
                or name.endswith(".egg-info")
                or is_environment(candidate)
                or rules.ignored(candidate, folder=True)
                or excluded(candidate)
            ):
                continue
            kept.append(name)
            rules_by_folder[os.path.join(folder, name)] = rules.entering(Path(os.path.abspath(candidate)))
        dirnames[:] = kept
        for name in sorted(filenames):
            candidate = here / name
            if (
                name.endswith(suffixes)
                and not rules.ignored(candidate, folder=False)
                and not excluded(candidate)
                and _readable_kind(candidate)
            ):
                yield candidate


def _readable_kind(path: Path) -> bool:
    """A regular file, or a link (a dangling one is reported): a FIFO named x.py would block the run."""
    return path.is_symlink() or path.is_file()
