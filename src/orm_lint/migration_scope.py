"""Which migrations the migration rules (ORM4xx) review: by default only the ones that are new.

A migration applied to production years ago cannot be made safe any more; reporting it only
buries the one that is about to run. So, unless `migrations = "all"` (or `--migrations all`):

- in a git checkout, a migration is new when it was added or changed since the merge base of
  HEAD with the default branch (`origin/HEAD`, else `main`/`master`, local or on `origin`),
  or when git does not have it at that base (untracked, ignored, staged);
- outside git, or when the default branch or the merge base cannot be found (a shallow CI
  checkout), every migration is reviewed: nothing says which ones are old.

Both entry points ask here, per file, with the same git facts, read once per repository and
process: `orm-lint check` (and `report`, `baseline`) and the flake8 plugin (editors, pre-commit).
The engines themselves report every migration, so cached results stay valid when a branch is merged.

Likewise, a finding on a table that came in the same release as the migration (an index on a table the
release creates) is left out here, where git is asked, not in the engines: `new_with_its_table`.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .catalogue import RULES_BY_CODE, Category
from .config import MIGRATIONS_ALL, Settings

_TIMEOUT_SECONDS = 60
# Where the default branch may be, in order, when `origin/HEAD` is not set.
_DEFAULT_BRANCHES = ("refs/heads/main", "refs/remotes/origin/main", "refs/heads/master", "refs/remotes/origin/master")
_REVISION_MARKER = b"down_revision"
# Tags that name a pre-release: deployments upgrade from one release to the next, not through betas.
_PRE_RELEASE = re.compile(r"(?:\d(?:a|b|c|rc)\d+|[.-](?:alpha|beta|rc|dev|pre|preview)(?:[.-]?\d+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class GitFacts:
    """What one repository says about its files: the ones unchanged since the merge base."""

    root: Path
    base: str  # the merge-base commit
    branch: str  # the default branch it was found from
    unchanged: frozenset[str]  # root-relative paths present at the base and not changed since


def reviewed_code(code: str, path: str, settings: Settings, table_created_in: str | None = None) -> bool:
    """Whether a finding of `code` in `path` is reported: every rule but the migration ones everywhere; those
    on new migrations (or all), unless their table came in the same release (`table_created_in` names the
    migration that created it)."""
    rule = RULES_BY_CODE.get(code)
    if rule is None or rule.category is not Category.MIGRATIONS:
        return True
    if settings.migrations != MIGRATIONS_ALL and not is_new(path):
        return False
    return not (table_created_in and new_with_its_table(path, table_created_in))


def new_with_its_table(path: str | Path, created_in: str) -> bool:
    """Whether the migration at `path` came in the same release as `created_in`, the migration of its folder
    that created its table: then the table is empty when it runs, and no deployed code uses it.

    Told from git's release points, the release tags in the order they were made (pre-releases only before the
    first release), then the merge base with the default branch: the newest one that lacks this migration lacks
    the other one too, and has this folder (or the folder above the app's, when the app came later), so that a
    moved folder is never taken for a new one. With no release point lacking this migration, nothing shows the
    two apart: False."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    root = _repository_root(resolved.parent)
    if root is None:
        return False
    try:
        migration = resolved.relative_to(root)
    except ValueError:
        return False
    folder = migration.parent
    outer = folder.parent.parent if folder.parent.parent.parts else folder  # the app's parent folder, not the root
    paths = [p.as_posix() for p in (migration, folder / created_in, folder, outer)]
    if any("\n" in p for p in paths):
        return False
    points = _release_points(root)
    present = _present(root, points, paths)
    for point in reversed(points):  # the newest release without this migration decides
        has_migration, has_creator, has_folder, has_outer = (present[point, p] for p in paths)
        if not has_migration:
            return not has_creator and (has_folder or has_outer)
    return False


@lru_cache(maxsize=16)
def _release_points(root: Path) -> tuple[str, ...]:
    """The release tags of the repository and the merge base with the default branch, as revisions. Pre-releases
    count only before the first final release: until then they are what deployments run."""
    listed = _git(["for-each-ref", "--sort=creatordate", "--format=%(refname)", "refs/tags"], root) or ""
    tags = [ref for ref in listed.splitlines() if ref]
    final = [not _PRE_RELEASE.search(ref.rsplit("/", 1)[-1]) for ref in tags]
    first = final.index(True) if True in final else len(tags)
    releases = [ref for number, ref in enumerate(tags) if final[number] or number < first]
    facts = _facts_of(root)
    return tuple(releases) + ((facts.base,) if facts is not None else ())


def _present(root: Path, points: tuple[str, ...], paths: list[str]) -> dict[tuple[str, str], bool]:
    """Whether each path (a file or a folder) exists at each revision: one git call for the pairs not asked before
    (a finding's folder and migration are shared by the others of its file)."""
    found = {(point, p): _PRESENT[root, point, p] for point in points for p in paths if (root, point, p) in _PRESENT}
    missing = [(point, p) for point in points for p in paths if (point, p) not in found]
    if missing:
        answer = _git(["cat-file", "--batch-check"], root, stdin="".join(f"{pt}:{p}\n" for pt, p in missing)) or ""
        results = answer.splitlines()
        if len(_PRESENT) > _MAX_PRESENT:
            _PRESENT.clear()
        for number, pair in enumerate(missing):
            # "<sha> <type> <size>", or "<revision>:<path> missing"; no answer at all (git failed) is "missing"
            found[pair] = _PRESENT[(root, *pair)] = number < len(results) and not results[number].endswith(" missing")
    return found


_PRESENT: dict[tuple[Path, str, str], bool] = {}
_MAX_PRESENT = 200_000


def is_new(path: str | Path) -> bool:
    """A file added or changed on this branch, or one git does not have; True when git cannot tell."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):
        return True
    facts = git_facts(str(resolved.parent))
    if facts is None:
        return True
    try:
        relative = resolved.relative_to(facts.root).as_posix()
    except ValueError:
        return True
    return relative not in facts.unchanged


def looks_like_migration(path: str | Path) -> bool:
    """A file in a `migrations` folder (Django, Flask-Migrate), or an Alembic revision in a `versions` folder."""
    file = Path(path)
    if file.name == "__init__.py" or file.suffix != ".py":
        return False
    if "migrations" in file.parts[:-1]:
        return True
    if file.parent.name != "versions":
        return False
    try:
        return _REVISION_MARKER in file.read_bytes()
    except OSError:
        return False


def not_reviewed(files: list[Path], settings: Settings) -> int:
    """How many of these files are existing migrations the migration rules left out."""
    if settings.migrations == MIGRATIONS_ALL:
        return 0
    return sum(1 for f in files if looks_like_migration(f) and not is_new(f))


def not_reviewed_note(count: int) -> str:
    """The sentence the text summary and the review give when existing migrations were left out."""
    noun = "migration" if count == 1 else "migrations"
    return (
        f"{count} existing {noun} not reviewed (only migrations new on this branch are); "
        'to review them, pass --migrations all or set migrations = "all" in [tool.orm-lint]'
    )


@lru_cache(maxsize=256)
def git_facts(folder: str) -> GitFacts | None:
    """The facts of the repository holding `folder`, None outside git (read once per repository)."""
    root = _repository_root(Path(folder).resolve())
    return None if root is None else _facts_of(root)


def _repository_root(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


@lru_cache(maxsize=16)
def _facts_of(root: Path) -> GitFacts | None:
    branch = _default_branch(root)
    if branch is None:
        return None
    base = _git(["merge-base", "HEAD", branch], root)
    if base is None:
        return None
    base = base.strip()
    tree = _git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", base], root)
    changed = _git(["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, "--"], root)
    if tree is None or changed is None:
        return None
    unchanged = set(tree.split("\0")) - set(changed.split("\0")) - {""}
    return GitFacts(root, base, branch, frozenset(unchanged))


def _default_branch(root: Path) -> str | None:
    origin_head = _git(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root)
    candidates = ([origin_head.strip()] if origin_head else []) + list(_DEFAULT_BRANCHES)
    for ref in candidates:
        if _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root) is not None:
            return ref
    return None


def _git(args: list[str], root: Path, stdin: str | None = None) -> str | None:
    """git's output, or None when it fails or cannot run (no git, a broken repository)."""
    environment = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # reading must not take the index lock
    given = stdin.encode("utf-8", "surrogateescape") if stdin is not None else None
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, input=given, capture_output=True, timeout=_TIMEOUT_SECONDS, env=environment
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")
