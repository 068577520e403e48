"""`--diff BASE`: the lines changed since a git revision, to review a change and not the whole tree.

A line counts as changed when `git diff --unified=0 BASE` adds or rewrites it (the work
tree against BASE: committed, staged and unstaged edits alike), or when the lines around
a deletion close over it; files git does not track yet are new in full. For a notebook,
the code cells at BASE and now are compared line by line.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .notebooks import NOTEBOOK_SUFFIX, NotebookError, notebook_source
from .findings import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_TIMEOUT_SECONDS = 300


class DiffError(Exception):
    """`--diff` cannot be honoured: not a git checkout, no git, or an unknown revision."""


@dataclass
class ChangedLines:
    base: str
    base_commit: str
    branch: str
    # resolved path -> changed lines; None when the whole file is new
    files: dict[str, set[int] | None] = field(default_factory=dict)
    # resolved path of a notebook -> changed (cell, line) pairs; None when the whole notebook is new
    notebooks: dict[str, set[tuple[int, int]] | None] = field(default_factory=dict)

    def includes(self, path: Path | str) -> bool:
        """Whether the file changed at all."""
        key = _key(str(path))
        return key in self.files or key in self.notebooks

    def covers(self, finding: Finding) -> bool:
        """Whether any line of the finding was changed since the base."""
        key = _key(finding.path)
        span = range(finding.line, max(finding.line, finding.end_line) + 1)
        if key in self.notebooks:
            cells = self.notebooks[key]
            return cells is None or any((finding.cell, line) in cells for line in span)
        lines = self.files.get(key, set())
        return lines is None or any(line in lines for line in span)

    def covers_line(self, path: str, line: int, cell: int | None = None) -> bool:
        return self.covers(Finding(path, line, 1, line, 1, "ORM101", "", "", cell))


@lru_cache(maxsize=4096)
def _key(path: str) -> str:
    return str(Path(path).resolve())


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise DiffError("--diff needs git, and git is not installed") from None
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DiffError(f"git could not run: {error}") from None


def _text(output: bytes) -> str:
    return output.decode("utf-8", "surrogateescape").strip()


def unquote_path(raw: str) -> str:
    """A path as git prints it: C-quoted (`"caf\\303\\251.py"`) when it holds unusual characters."""
    if not (raw.startswith('"') and raw.endswith('"')):
        return raw
    body, data, index = raw[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            if following in "01234567":
                data.append(int(body[index + 1 : index + 4], 8))
                index += 4
                continue
            data.append(_ESCAPES.get(following, ord(following)))
            index += 2
            continue
        data.extend(char.encode("utf-8"))
        index += 1
    return data.decode("utf-8", "surrogateescape")


def parse_unified_diff(diff: str) -> dict[str, set[int]]:
    """Repository-relative path -> line numbers (in the new version) that `--unified=0` output adds or touches."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    previous = ""
    for line in diff.splitlines():
        header, previous = previous.startswith("--- ") and line.startswith("+++ "), line
        if header:
            target = unquote_path(line[4:].rstrip("\t"))
            current = None if target == "/dev/null" else changed.setdefault(target.removeprefix("b/"), set())
            continue
        match = _HUNK.match(line)
        if match is None or current is None:
            continue
        start = int(match["start"])
        count = 1 if match["count"] is None else int(match["count"])
        if count:
            current.update(range(start, start + count))
        else:  # a pure deletion after line `start`: the lines it closes over changed
            current.update({start, start + 1} - {0})
    return changed


def _notebook_changes(root: Path, relative: str, base: str) -> set[tuple[int, int]] | None:
    shown = _git(["show", f"{base}:{relative}"], root)
    if shown.returncode != 0:
        return None  # not in the base: new in full
    try:
        before = notebook_source(shown.stdout.decode("utf-8-sig"))
        after = notebook_source((root / relative).read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, NotebookError):
        return None
    old, new = before.text.splitlines(), after.text.splitlines()
    changed: set[tuple[int, int]] = set()
    for tag, _, _, first, last in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(after.origin(line) for line in range(first + 1, last + 1))
    return changed


def changed_lines(base: str) -> ChangedLines:
    """The lines changed in the work tree since `base`; raises DiffError with a message for the user."""
    cwd = Path.cwd()
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise DiffError(f"--diff needs a git checkout, and {cwd} is not inside one")
    root = Path(_text(top.stdout))
    if not base or base.startswith("-"):
        raise DiffError(f"--diff needs a git revision, got {base!r}")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], root)
    if commit.returncode != 0:
        raise DiffError(f"unknown git revision {base!r} (try a branch, a tag or a commit, e.g. origin/main)")
    branch = _text(_git(["rev-parse", "--abbrev-ref", "HEAD"], root).stdout) or "HEAD"
    full_commit = _text(commit.stdout)
    result = ChangedLines(base=base, base_commit=full_commit[:12], branch=branch)
    diff = _git(
        ["-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", "-M", "--unified=0", full_commit, "--"],
        root,
    )
    if diff.returncode != 0:
        raise DiffError(f"git diff failed: {_text(diff.stderr)}")
    for relative, lines in parse_unified_diff(diff.stdout.decode("utf-8", "surrogateescape")).items():
        shown = _key(str(root / relative))
        if relative.lower().endswith(NOTEBOOK_SUFFIX):
            result.notebooks[shown] = _notebook_changes(root, relative, full_commit)
        else:
            result.files[shown] = lines
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    for relative in untracked.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if relative:
            shown = _key(str(root / relative))
            (result.notebooks if relative.lower().endswith(NOTEBOOK_SUFFIX) else result.files)[shown] = None
    return result
