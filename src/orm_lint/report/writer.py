"""Writing report files safely: only inside the chosen folder, never over an earlier report, atomically.

Every file is written to a temporary file in its final folder and moved into place with
`os.replace`, so a reader never sees half a file. File names made from findings are
reduced to `[a-z0-9-]` and bounded in length; each target is resolved and checked to
lie inside the output folder before anything is written.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

REPORT_PREFIX = "database-review-"
FINDING_FILE = re.compile(r"^finding-\d{3,}-[a-z0-9-]*\.md$")
_MAX_SLUG = 60
_MAX_NUMBER = 999
_SHARED_MODE = 0o666  # what `open()` asks for; the umask takes away the rest (normally 0644)


class WriteError(Exception):
    """A file the report must not or cannot write; the message names it."""


def slug(text: str, limit: int = _MAX_SLUG) -> str:
    """`[a-z0-9-]` only, no leading/trailing/double dashes, at most `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return cleaned[:limit].rstrip("-") or "finding"


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, resolved (symbolic links followed), lies inside the resolved `folder`."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def atomic_write(target: Path, content: str, root: Path) -> Path:
    """Write `content` to `target` (inside `root`) through a temporary file and `os.replace`."""
    folder = target.parent
    if not inside(folder, root) or target.name in {"", ".", ".."} or "/" in target.name or "\\" in target.name:
        raise WriteError(f"refusing to write {target}: it is not inside {root}")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".orm-lint-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _SHARED_MODE & ~_umask())  # mkstemp makes it 0600; a report is for the team
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class ReportPlace:
    """Where one report goes: the summary file and the folder of finding files beside it."""

    root: Path
    summary: Path
    folder: Path


def claim_report(root: Path, day: datetime.date, force: bool) -> ReportPlace:
    """The first free `database-review-DAY[-N]` name in `root`, reserved so concurrent runs do not collide.

    With `force`, the plain name of the day is reused and its old finding files are removed.
    """
    if root.exists() and not root.is_dir():
        raise WriteError(f"--output {root} is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    for number in range(1, _MAX_NUMBER + 1):
        stem = f"{REPORT_PREFIX}{day.isoformat()}" + ("" if number == 1 else f"-{number}")
        summary, folder = root / f"{stem}.md", root / stem
        if force:
            return _reuse(ReportPlace(root, summary, folder))
        if os.path.lexists(summary) or os.path.lexists(folder):
            continue
        try:
            os.close(os.open(summary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return ReportPlace(root, summary, folder)
    raise WriteError(f"{root} already holds {_MAX_NUMBER} reports for {day}; pass --force or choose another --output")


def _reuse(place: ReportPlace) -> ReportPlace:
    for path in (place.summary, place.folder):
        if path.is_symlink():
            raise WriteError(f"refusing to overwrite {path}: it is a symbolic link")
    if place.folder.exists():
        if not place.folder.is_dir():
            raise WriteError(f"refusing to overwrite {place.folder}: it is not a folder")
        for old in place.folder.iterdir():
            if FINDING_FILE.match(old.name) and old.is_file() and not old.is_symlink():
                old.unlink()
    return place


def finding_folder(place: ReportPlace) -> Path:
    """Create the finding folder and check it lies directly inside the output folder."""
    place.folder.mkdir(exist_ok=True)
    if place.folder.is_symlink() or place.folder.resolve().parent != place.root.resolve():
        raise WriteError(f"refusing to write into {place.folder}: it is not inside {place.root}")
    return place.folder
