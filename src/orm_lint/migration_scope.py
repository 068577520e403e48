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
from collections.abc import Iterator
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
_PRE_RELEASE = re.compile(
    r"(?:\d(?:a|b|c|rc)\d+|[.-](?:a|b|c|m|rc)[.-]?\d+"
    r"|[.-](?:alpha|beta|rc|dev|pre|preview|canary|next|snapshot)(?:[.-]?\d+)?)$",
    re.IGNORECASE,
)


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
    """Whether the migration at `path` came in the same release as `created_in`, the migration of its folder that
    created its table (or added its column): then the table is empty when it runs, and no deployed code uses it.

    Told from git, by commits rather than paths (a moved app or a renamed revision keeps its history):
    - a migration new on this branch: the branch is the release, so the other one must have been added on it too
      (added, not moved or renamed here);
    - an older one: some release tag in HEAD's history must contain the other one's first commit, and none of them
      may lack this one's. Pre-releases count only before the first release. With no such tag (no tags, or tables
      not released yet: deployments may run the default branch), nothing shows the two apart.
    Any doubt, and any failure, answers False: the finding is reported."""
    try:
        return _new_with_its_table(Path(path).resolve(), created_in)
    except Exception:  # a git or file-system oddity must never hide a finding, nor stop the run
        return False


def _new_with_its_table(resolved: Path, created_in: str) -> bool:
    root = _repository_root(resolved.parent)
    if root is None:
        return False
    try:
        migration = resolved.relative_to(root).as_posix()
        creator = (resolved.parent / created_in).relative_to(root).as_posix()
    except ValueError:
        return False
    facts = _facts_of(root)
    if facts is not None and migration not in facts.unchanged:
        return creator in _added_since(root, facts.base)
    history = _history(root)
    first = history.first_commit(creator)
    if first is None:
        return False
    return _released_together(root, first, history.first_commit(migration))


@lru_cache(maxsize=16)
def _added_since(root: Path, base: str) -> frozenset[str]:
    """The files added since `base` (committed or not, and untracked ones); a file moved or renamed is not added."""
    changes = _git(["diff", "--name-status", "-z", "-M", "--no-ext-diff", base, "--"], root)
    untracked = _git(["ls-files", "-z", "--others", "--exclude-standard"], root)
    if changes is None or untracked is None:
        return frozenset()
    added = set(untracked.split("\0")) - {""}
    added.update(path for status, path, _ in _name_status(changes) if status == "A")
    return frozenset(added)


@dataclass(frozen=True)
class _History:
    """When each migration file of the repository first came, following renames and moves (git log -M)."""

    # path -> (order: older is larger, commit, source): source None for an addition, "" for a deletion, else the
    # path it was renamed from
    events: dict[str, list[tuple[int, str, str | None]]]

    def first_commit(self, path: str, after: int = -1) -> str | None:
        """The commit that added the file now at `path` (under whatever name it had then); None when git has none.
        The oldest addition since the file was last deleted: a file merged again and again (a release branch into
        the default one) was born once, and a file deleted then written again (an app rewritten) twice."""
        for _ in range(_MAX_RENAMES):
            events = [e for e in self.events.get(path, ()) if e[0] > after]
            deleted = min((e[0] for e in events if e[2] == ""), default=None)
            event = max((e for e in events if e[2] != "" and (deleted is None or e[0] < deleted)), default=None)
            if event is None:
                return None
            order, commit, source = event
            if source is None:
                return commit
            path, after = source, order
        return None


_MAX_RENAMES = 50
# Where migration files live; the log is limited to them (and so is git's rename detection).
_MIGRATION_PATHS = (":(glob)**/migrations/**", ":(glob)**/versions/**")


@lru_cache(maxsize=16)
def _history(root: Path) -> _History:
    """One walk of HEAD's history of the migration folders; a merge counts by what it brought to its first parent
    (a file first seen in a merge's resolution has no other commit)."""
    log = _git(
        [
            "log",
            "-M",
            "--diff-filter=ADR",
            "--name-status",
            "-z",
            "--diff-merges=first-parent",
            "--format=%x01%H",
            "HEAD",
            "--",
        ]
        + list(_MIGRATION_PATHS),
        root,
    )
    events: dict[str, list[tuple[int, str, str | None]]] = {}
    order = 0
    for chunk in (log or "").split("\x01")[1:]:
        commit, _, changes = chunk.partition("\0")
        for status, path, renamed_from in _name_status(changes.lstrip("\n")):
            if status in ("A", "D", "R"):
                source = None if status == "A" else "" if status == "D" else renamed_from
                events.setdefault(path, []).append((order, commit, source))
            order += 1
    return _History(events)


def _name_status(output: str) -> Iterator[tuple[str, str, str | None]]:
    """(status letter, path, the path it was renamed or copied from) for each entry of `--name-status -z` output."""
    fields = output.split("\0")
    position = 0
    while position < len(fields) - 1:
        status = fields[position][:1]
        if status in ("R", "C") and position + 2 < len(fields):
            yield status, fields[position + 2], fields[position + 1]
            position += 3
        else:
            yield status, fields[position + 1], None
            position += 2


def _released_together(root: Path, creator: str, migration: str | None) -> bool:
    """Some release tag holds commit `creator`, and every one that does holds `migration` too."""
    holding = _releases_holding(root, creator)
    return bool(holding) and migration is not None and holding <= _releases_holding(root, migration)


@lru_cache(maxsize=4096)
def _releases_holding(root: Path, commit: str) -> frozenset[str]:
    """The release tags in HEAD's history that contain `commit`: one git call per commit (findings share them)."""
    listed = _git(["for-each-ref", "--merged=HEAD", f"--contains={commit}", "--format=%(refname)", "refs/tags"], root)
    return frozenset(ref for ref in (listed or "").splitlines() if ref) & _releases(root)


@lru_cache(maxsize=16)
def _releases(root: Path) -> frozenset[str]:
    """The release tags in HEAD's history; pre-releases only before the first final release, when they are what
    deployments run."""
    listed = _git(["for-each-ref", "--merged=HEAD", "--sort=creatordate", "--format=%(refname)", "refs/tags"], root)
    tags = [ref for ref in (listed or "").splitlines() if ref]
    final = [not _PRE_RELEASE.search(ref.rsplit("/", 1)[-1]) for ref in tags]
    first = final.index(True) if True in final else len(tags)
    return frozenset(ref for number, ref in enumerate(tags) if final[number] or number < first)


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


def _git(args: list[str], root: Path) -> str | None:
    """git's output, or None when it fails or cannot run (no git, a broken repository)."""
    # Reading must not take the index lock, fetch missing objects of a partial clone or ask for credentials; and
    # the repository is the one at `root`, whatever a git hook's environment says.
    environment = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    environment.update(GIT_OPTIONAL_LOCKS="0", GIT_NO_LAZY_FETCH="1", GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=_TIMEOUT_SECONDS, env=environment)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")
