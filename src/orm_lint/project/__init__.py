"""What the whole project declares (its models and their relations), for checks that read one file."""

from __future__ import annotations

import os
from pathlib import Path

from .index import EMPTY, ProjectIndex, index_for_root, marked_root, project_root
from .model_facts import ModelFacts, Relation


def index_cache_root(cache_dir: str | None) -> str | None:
    """`<cache-dir>/index`, or `$XDG_CACHE_HOME/orm-lint/index`; None when there is no home to keep it in."""
    if cache_dir:
        return str(Path(cache_dir) / "index")
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:
        return None
    return str(Path(base) / "orm-lint" / "index")


# Set by `orm-lint check --no-cache` for its worker processes: build the index without keeping it.
NO_CACHE_VARIABLE = "ORM_LINT_NO_CACHE"


# Indexes a parent process built and handed to its workers, by project root: a worker never builds them again.
_ADOPTED: dict[str, ProjectIndex] = {}


def adopt(indexes: dict[str, ProjectIndex]) -> None:
    """Use these indexes (built by the process that started this one) for their projects."""
    _ADOPTED.update(indexes)


def indexes_for(paths: list[str], cache_dir: str | None = None) -> dict[str, ProjectIndex]:
    """The index of each project the paths belong to, by project root (to hand to worker processes)."""
    roots: set[str] = set()
    for path in paths:
        try:
            roots.add(str(project_root(path)))
        except OSError:
            continue
    return {root: index_for(root, cache_dir) for root in sorted(roots)}


def index_for(path: str | Path, cache_dir: str | None = None) -> ProjectIndex:
    """The index of the project `path` belongs to (built once per process and project)."""
    try:
        root = project_root(path)
    except OSError:
        return EMPTY
    adopted = _ADOPTED.get(str(root))
    if adopted is not None:
        return adopted
    use_cache = os.environ.get(NO_CACHE_VARIABLE) != "1"
    return index_for_root(str(root), index_cache_root(cache_dir) if use_cache else None)


__all__ = [
    "NO_CACHE_VARIABLE",
    "EMPTY",
    "ModelFacts",
    "ProjectIndex",
    "Relation",
    "adopt",
    "index_for",
    "indexes_for",
    "marked_root",
    "project_root",
]
