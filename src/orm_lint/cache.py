"""The syntax engine's results cache: a re-run on an unchanged tree reads findings back instead of parsing.

Where: `$XDG_CACHE_HOME/orm-lint/results/<hash of the working folder>/` (`~/.cache/…` when the
variable is unset), or `<cache-dir>/<hash of the working folder>/` with the `cache-dir` setting.
Not inside the analysed project by default: a cache committed to a repository could hide
findings from a CI run. Deleting the folder is always safe.

What: one manifest per *results key*: orm-lint's version and a hash of its own sources, the
Python version (it decides what parses), the working folder (findings name files relative to
it) and every setting that can change a file's findings. The manifest maps each file, as it
was named on the command line, to its size, mtime, content hash, findings and problems.

When an entry is trusted: same size and mtime, as git and ruff do, unless the mtime was so
close to the moment the file was read that an edit in the same clock tick could hide behind
it (git's "racily clean" entries); then, and whenever the mtime differs, the content hash
decides. So `touch` or a `git checkout` that restores a file costs a read, never a parse.

Concurrent runs: each writes a whole manifest to a temporary file and moves it into place
with `os.replace`, so a reader sees an old or a new manifest, never half of one; when two
runs race, the last one wins and the other's new entries are simply computed again next
time. A manifest that cannot be read or does not look right is ignored, entry by entry.
JSON, not pickle: reading a cache must never run code.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .catalogue import RULES_BY_CODE
from .config import Settings
from .fingerprint import source_fingerprint
from .project import index_for
from .findings import DETAILS, FileProblem, Finding, GoodPattern

# 2: each finding row ends with its details (framework, function, fix, ...); 3: good patterns per file;
# 4: the stamps of the other modules whose functions the file's analysis followed
FORMAT = 4
# An mtime this close to the moment of reading is not trusted next time (coarse clocks, network drives).
_RACY_NS = 2_000_000_000
_KEPT_MANIFESTS = 4  # per working folder: a few settings or orm-lint versions side by side
# Settings that never change one file's findings (they choose files, or say where the cache is).
_NOT_IN_KEY = frozenset({"jobs", "exclude", "cache_dir", "migrations", "warnings"})
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# orm-lint results cache (bford.info/cachedir)\n"


class Stamp(NamedTuple):
    """What `os.stat` says about a file just before it was read."""

    size: int
    mtime_ns: int
    trusted: bool  # false when the file was read within the same clock tick as its last change


@dataclasses.dataclass(frozen=True)
class FileResult:
    """One file's findings and problems, with what the cache needs to tell whether they still hold."""

    name: str  # the path as discovered
    findings: list[Finding]
    problems: list[FileProblem]
    stamp: Stamp | None = None  # None: the file could not be read, nothing to cache
    digest: str = ""
    good_patterns: list[GoodPattern] = dataclasses.field(default_factory=list)  # what the review counts
    # other modules the findings depend on (helpers followed into them): (path, size, mtime_ns)
    depends_on: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)


def read_stamped(name: str) -> tuple[Stamp, bytes]:
    """The file's bytes and its stamp, taken before reading: a change while reading shows next time."""
    status = os.stat(name)
    with open(name, "rb") as handle:
        data = handle.read()
    trusted = time.time_ns() - status.st_mtime_ns > _RACY_NS  # a future mtime (clock skew) is never trusted
    return Stamp(status.st_size, status.st_mtime_ns, trusted), data


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def default_root() -> Path:
    """`$XDG_CACHE_HOME/orm-lint/results`, `~/.cache/orm-lint/results` when the variable is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "orm-lint" / "results"


def results_key(settings: Settings, working_folder: str, projects: Sequence[str] = ()) -> str:
    """A hash of everything besides a file's own content and name that its findings depend on."""
    document = {
        "format": FORMAT,
        "orm_lint": source_fingerprint(),
        "python": sys.version,
        "working_folder": working_folder,
        "projects": list(projects),
        "settings": settings_document(settings),
    }
    if settings.user_rules:  # the project's own rules are matched by ast-grep: its version counts too
        from .versions import installed_version

        document["ast_grep"] = installed_version("ast-grep-py")
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:24]


def settings_document(settings: Settings) -> dict[str, Any]:
    """Every setting that can change a finding, as plain JSON data: the results cache and mypy's key on it."""
    return {
        field.name: _canonical(getattr(settings, field.name))
        for field in dataclasses.fields(settings)
        if field.name not in _NOT_IN_KEY
    }


def _canonical(value: Any) -> Any:
    """Plain JSON data, the same in every process (sets sorted, whatever the hash seed)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


class ResultCache:
    """The manifest of one results key: look files up, store fresh results, save once at the end."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.path = folder / f"{key}.json"
        self._entries = self._load()
        self._seen: set[str] = set()
        self._changed = False

    @classmethod
    def open(cls, settings: Settings, paths: Sequence[str] = ()) -> ResultCache | None:
        """The cache for a run in the current working folder; None when there is nowhere to keep it.

        A file's findings depend on the models of its project too: the key holds the project indexes' digests.
        """
        try:
            working_folder = os.getcwd()
            root = Path(settings.cache_dir) if settings.cache_dir else default_root()
        except (OSError, RuntimeError):  # the working folder is gone; no home folder
            return None
        place = hashlib.sha256(working_folder.encode(errors="surrogateescape")).hexdigest()[:16]
        projects = sorted({index_for(path, settings.cache_dir).digest for path in paths or ["."]})
        return cls(root / place, results_key(settings, working_folder, projects))

    def _load(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return {}
        files = document.get("files")
        return files if isinstance(files, dict) else {}

    def lookup(self, files: Sequence[Path]) -> tuple[list[FileResult], list[Path]]:
        """(results still valid, files to analyse)."""
        known: list[FileResult] = []
        pending: list[Path] = []
        for path in files:
            name = str(path)
            self._seen.add(name)
            result = self._valid_result(name)
            if result is None:
                pending.append(path)
            else:
                known.append(result)
        return known, pending

    def _valid_result(self, name: str) -> FileResult | None:
        entry = self._entries.get(name)
        if entry is None:
            return None
        try:
            size, mtime_ns, trusted, digest, findings, problems, good, depends_on = entry
            status = os.stat(name)
            if status.st_size != size or not _unchanged(depends_on):
                return None
            if not (trusted is True and status.st_mtime_ns == mtime_ns):
                stamp, data = read_stamped(name)
                if content_digest(data) != digest:
                    return None
                if stamp != (size, mtime_ns, trusted):
                    self._entries[name] = [*stamp, digest, findings, problems, good, depends_on]
                    self._changed = True
            return FileResult(
                name,
                [_finding(row) for row in findings],
                [_problem(row) for row in problems],
                good_patterns=[_good_pattern(row) for row in good],
                depends_on=[(path, size, mtime) for path, size, mtime in depends_on],
            )
        except (OSError, ValueError, TypeError):  # gone, unreadable, or a damaged entry: analyse again
            return None

    def store(self, results: Iterable[FileResult]) -> None:
        for result in results:
            if result.stamp is None:
                continue
            findings = [
                [f.path, f.line, f.column, f.end_line, f.end_column, f.code, f.message, f.cell, f.lowered_by, f.details]
                for f in result.findings
            ]
            problems = [[p.path, p.message] for p in result.problems]
            good = [[g.kind, g.path, g.line, g.cell, g.end_line] for g in result.good_patterns]
            depends_on = [list(stamp) for stamp in result.depends_on]
            self._entries[result.name] = [*result.stamp, result.digest, findings, problems, good, depends_on]
            self._changed = True

    def save(self) -> None:
        """Write the manifest if anything changed; a cache that cannot be written is no error."""
        if not self._changed:
            return
        for name in [n for n in self._entries if n not in self._seen and not os.path.exists(n)]:
            del self._entries[name]  # files deleted since; entries of files outside this run stay
        temporary = None
        try:
            self._make_folder()
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"format": FORMAT, "files": self._entries}, stream, separators=(",", ":"))
            os.replace(temporary, self.path)
            temporary = None
            self._changed = False
            self._prune()
        except OSError:
            pass
        finally:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def _make_folder(self) -> None:
        if self.folder.is_dir():
            return
        root = self.folder.parent
        root.mkdir(parents=True, exist_ok=True)
        for name, content in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", "# orm-lint's results cache\n*\n")):
            marker = root / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")
        self.folder.mkdir(exist_ok=True)

    def _prune(self) -> None:
        """Keep the few newest manifests of this working folder (other keys are other settings or versions)."""
        try:
            manifests = [p for p in self.folder.glob("*.json") if not p.name.startswith(".")]  # not temporaries
            manifests.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in manifests[_KEPT_MANIFESTS:]:
                old.unlink(missing_ok=True)
        except OSError:
            pass


def _finding(row: list[Any]) -> Finding:
    path, line, column, end_line, end_column, code, message, cell, lowered_by, details = row
    numbers = (line, column, end_line, end_column)
    if not (
        isinstance(path, str)
        and isinstance(message, str)
        and all(type(n) is int for n in numbers)
        and (cell is None or type(cell) is int)
        and code in RULES_BY_CODE
        and type(lowered_by) is int
        and isinstance(details, dict)
        and all(name in DETAILS and isinstance(value, str) for name, value in details.items())
    ):
        raise ValueError(f"damaged cache entry: {row!r}")
    return Finding(path, line, column, end_line, end_column, code, message, "flake8", cell, lowered_by, **details)


def _problem(row: list[Any]) -> FileProblem:
    path, message = row
    if not (isinstance(path, str) and isinstance(message, str)):
        raise ValueError(f"damaged cache entry: {row!r}")
    return FileProblem(path, message)


def _good_pattern(row: list[Any]) -> GoodPattern:
    kind, path, line, cell, end_line = row
    if not (
        isinstance(kind, str)
        and isinstance(path, str)
        and type(line) is int
        and (cell is None or type(cell) is int)
        and type(end_line) is int
    ):
        raise ValueError(f"damaged cache entry: {row!r}")
    return GoodPattern(kind, path, line, cell, end_line)


def _unchanged(depends_on: list[list[Any]]) -> bool:
    """Every other module the findings depend on has the size and mtime it had."""
    for path, size, mtime_ns in depends_on:
        try:
            status = os.stat(path)
        except OSError:
            return False
        if status.st_size != size or status.st_mtime_ns != mtime_ns:
            return False
    return True
