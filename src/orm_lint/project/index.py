"""The project index: every model of the project and its relations, built from source and cached.

The syntax engine checks one file at a time (flake8 hands it one tree), yet whether
`entry.session` is a relation depends on a model declared elsewhere. The index is built once
per project: every Python file under the project root whose bytes may declare a model is
parsed (never imported), and what it declares is merged by class name. Each file's facts are
cached by its size, mtime and content hash, like the results cache, so a warm index costs a
walk and a `stat` per file; a stale entry is never used.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..files import Watched, unchanged, walk
from ..fingerprint import source_fingerprint
from ..paths import is_test_module
from ..frameworks import django
from . import index_advice, query_sites, revisions
from .model_facts import (
    ModelFacts,
    ModuleFacts,
    Relation,
    listed_serializers,
    may_declare_models,
    may_list_serializers,
    module_facts,
)

_ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
# Migration histories declare yesterday's models, not today's.
_HISTORY = frozenset({"migrations", "versions", "alembic"})
_MAX_FILES = 20_000  # a root this large is not one project (a home folder): the index stays empty
_RACY_NS = 2_000_000_000


@dataclass
class ProjectIndex:
    """Models by class name, with inherited and added relations merged in."""

    root: str
    models: dict[str, ModelFacts] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)  # names two different models share
    # custom manager and queryset methods that return a queryset -> relations they load ("*": all)
    queryset_methods: dict[str, frozenset[str]] = field(default_factory=dict)
    ambiguous_methods: set[str] = field(default_factory=set)
    serializers: dict[str, frozenset[str]] = field(default_factory=dict)  # serializer -> attributes it reads
    listed_serializers: frozenset[str] = frozenset()  # serializers some view renders many objects with
    # every model of each name: two apps may both declare an `Image`
    candidates: dict[str, list[ModelFacts]] = field(default_factory=dict)
    # the module the index is seen from (`seen_from`): its imports and its place decide between candidates
    near: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    _digest: str | None = field(default=None, repr=False, compare=False)

    @property
    def digest(self) -> str:
        """Changes whenever any model fact does: part of every cached result's key (computed when asked)."""
        if self._digest is None:
            facts = [m.as_json() for name in sorted(self.candidates) for m in self.candidates[name]]
            self._digest = hashlib.sha256(
                json.dumps(facts, sort_keys=True).encode()
                + json.dumps({k: sorted(v) for k, v in self.queryset_methods.items()}, sort_keys=True).encode()
                + json.dumps({k: sorted(v) for k, v in self.serializers.items()}, sort_keys=True).encode()
                + json.dumps(sorted(self.listed_serializers)).encode()
            ).hexdigest()[:16]
        return self._digest

    def seen_from(self, filename: str, imports: dict[str, str]) -> ProjectIndex:
        """The index as one module sees it: an ambiguous name resolves through that module's imports."""
        return replace(self, near=module_name(self.root, filename), imports=imports)

    def model(self, name: str | None) -> ModelFacts | None:
        if not name:
            return None
        if name not in self.ambiguous:
            return self.models.get(name)
        imported = self.imports.get(name, "")
        if imported:
            found = self.resolve(name, absolute_name(imported, self.near).rsplit(".", 1)[0], exact=True)
            if found is not None:
                return found
        return self.resolve(name, self.near)

    def resolve(self, name: str, near: str, exact: bool = False) -> ModelFacts | None:
        """The model of that name declared in `near` (exact) or nearest to it; None when two are as near."""
        found = self.candidates.get(name, [])
        if len(found) <= 1:
            return found[0] if found else None
        wanted = near.split(".")
        if exact:
            inside = [m for m in found if _contains(m.module.split("."), wanted)]
            return inside[0] if len(inside) == 1 else None
        scores = [_shared_prefix(m.module.split("."), wanted) for m in found]
        best = max(scores)
        return found[scores.index(best)] if best > 0 and scores.count(best) == 1 else None

    def relation(self, model: str | None, attribute: str) -> Relation | None:
        facts = self.model(model)
        return facts.relations.get(attribute) if facts is not None else None


EMPTY = ProjectIndex(root="")


def module_name(root: str, filename: str) -> str:
    """`shop.models` for `<root>/shop/models.py`, `shop` for `<root>/shop/__init__.py`."""
    relative = os.path.relpath(os.path.abspath(filename), root) if root else filename
    parts = [p for p in Path(relative).with_suffix("").parts if p not in {".", ".."}]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute_name(imported: str, near: str) -> str:
    """`shop.models.Image` for `.models.Image` imported in `shop.views`."""
    level = len(imported) - len(imported.lstrip("."))
    if not level:
        return imported
    package = near.split(".")[:-level] if near else []
    return ".".join([*package, imported.lstrip(".")])


def _contains(segments: list[str], run: list[str]) -> bool:
    """`run` appears in `segments` as a contiguous sequence (a `src.` prefix or a package's submodule aside)."""
    size = len(run)
    return any(segments[i : i + size] == run for i in range(len(segments) - size + 1))


def _shared_prefix(a: list[str], b: list[str]) -> int:
    count = 0
    for left, right in zip(a, b):
        if left != right:
            break
        count += 1
    return count


def project_root(path: str | Path) -> Path:
    """The nearest folder above `path` with a project marker; the file's own folder when there is none."""
    start = os.path.abspath(path)
    return _root_of_folder(start if os.path.isdir(start) else os.path.dirname(start))


def marked_root(path: str | Path) -> Path | None:
    """The nearest folder above `path` with a project marker, or None."""
    start = os.path.abspath(path)
    return _marked_folder(start if os.path.isdir(start) else os.path.dirname(start))


@lru_cache(maxsize=256)
def _marked_folder(folder: str) -> Path | None:
    for candidate in (Path(folder), *Path(folder).parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    return None


@lru_cache(maxsize=256)
def _root_of_folder(folder: str) -> Path:
    """The nearest folder with a project marker; without one, the folder above the outermost package."""
    marked = _marked_folder(folder)
    if marked is not None:
        return marked
    root = Path(folder)
    while (root / "__init__.py").exists() and root.parent != root:
        root = root.parent
    return root


@lru_cache(maxsize=8)
def index_for_root(root: str, cache_root: str | None) -> ProjectIndex:
    """The index of the project at `root`, read from and written back to the cache under `cache_root`."""
    place = hashlib.sha256(root.encode(errors="surrogateescape")).hexdigest()[:24]
    cache_file = Path(cache_root) / place / "index.json" if cache_root else None
    cached, listing = _read_cache(cache_file)
    entries: dict[str, list[Any]] = {}
    changed = False
    files, kept_listing = _python_files(root, listing)
    marked = _marked_folder(root)  # test modules are judged inside a project its markers show
    for path in files:
        if is_test_module(path, str(marked) if marked is not None else None):
            continue  # test models and helpers are not what the project's code uses
        try:
            status = os.stat(path)
        except OSError:
            continue
        relative = os.path.relpath(path, root)
        old = cached.get(relative)
        if old is not None and old[0] == status.st_size and old[1] == status.st_mtime_ns and old[3]:
            entries[relative] = old
            continue
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        trusted = time.time_ns() - status.st_mtime_ns > _RACY_NS
        if old is not None and old[2] == digest:
            entries[relative] = [status.st_size, status.st_mtime_ns, digest, trusted, old[4]]
        else:
            entries[relative] = [status.st_size, status.st_mtime_ns, digest, trusted, _facts_json(data, relative)]
        changed = True
    if len(entries) != len(cached) or kept_listing is not listing:
        changed = True
    if cache_file is not None and changed:
        _write_cache(cache_file, entries, kept_listing)
    return _merge(
        root,
        [
            (module_name(root, os.path.join(root, name)), ModuleFacts.from_json(entry[4]))
            for name, entry in entries.items()
            if entry[4]
        ],
    )


def _facts_json(data: bytes, relative: str = "") -> dict[str, Any] | None:
    history = any(part in _HISTORY for part in Path(relative).parts[:-1])
    declares = not history and may_declare_models(data)
    queries = not history and query_sites.may_query(data) and query_sites.advised_path(relative)
    revision = history and revisions.may_add_indexes(data)
    lists = not history and may_list_serializers(data)
    if not (declares or queries or revision or lists):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        facts = module_facts(tree) if declares else ModuleFacts()
        facts.listed_serializers = listed_serializers(tree, data) if lists else []
        facts.query_sites = query_sites.query_sites(tree, relative, data) if queries else []
        facts.table_indexes = revisions.revision_indexes(tree) if revision else {}
    except RecursionError:
        return None
    useful = facts.models or facts.added_relations or facts.queryset_methods or facts.serializers
    useful = useful or facts.listed_serializers
    useful = useful or facts.query_sites or facts.table_indexes
    return facts.as_json() if useful else None


# Roots whose Python files a run has already listed (`orm-lint check ROOT`): no second walk.
_LISTED: dict[str, list[str]] = {}


def share_file_list(root: str, files: list[str]) -> None:
    """Hand the index the files `orm-lint check` found under the project's root itself."""
    root = os.path.abspath(root)
    inside = root.rstrip(os.sep) + os.sep
    _LISTED[root] = [p for p in map(os.path.abspath, files) if p.endswith(".py") and p.startswith(inside)]


def _python_files(root: str, listing: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """The project's Python files, found as `orm-lint check` finds them (ignore files, environments, FIFOs);
    and the listing to cache (the cached one while it holds, None when it cannot be trusted yet).

    A cached listing is used while every folder it entered and every ignore file it read keeps its
    stamp: an editor's run then pays a `stat` per folder instead of a walk with ignore-file matching.
    """
    if root in _LISTED:
        return [f for f in _LISTED[root] if not _in_left_out_folder(os.path.dirname(f), root)], listing
    if listing is not None and unchanged(listing["watched"]):
        return [os.path.join(root, name) for name in listing["files"]], listing
    found: list[str] = []
    watched: Watched = {}
    started = time.time_ns()
    for path in walk(Path(root), (".py",), _left_out, watched):
        found.append(str(path))
        if len(found) > _MAX_FILES:
            return [], None
    settled = all(started - mtime_ns > _RACY_NS for mtime_ns, _ in watched.values())
    fresh = {"watched": watched, "files": [os.path.relpath(f, root) for f in found]} if settled else None
    return found, fresh


@lru_cache(maxsize=4096)
def _in_left_out_folder(folder: str, root: str) -> bool:
    """Whether `folder`, or a folder between it and the project's root, is one the index leaves out."""
    if len(folder) <= len(root):
        return False
    return _left_out(Path(folder)) or _in_left_out_folder(os.path.dirname(folder), root)


def _left_out(path: Path) -> bool:
    """Hidden files and folders, and Django's migration histories (Alembic's are read for the indexes they create)."""
    return path.name.startswith(".") or path.name == "migrations" and not (path / "versions").is_dir()


def _read_cache(cache_file: Path | None) -> tuple[dict[str, list[Any]], dict[str, Any] | None]:
    """(each file's cached entry, the cached listing of the project's files or None)."""
    if cache_file is None:
        return {}, None
    try:
        document = json.loads(cache_file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}, None
    if not isinstance(document, dict) or document.get("orm_lint") != source_fingerprint():
        return {}, None
    files = document.get("files")
    if not isinstance(files, dict):
        return {}, None
    entries = {
        name: entry
        for name, entry in files.items()
        if isinstance(entry, list) and len(entry) == 5 and (entry[4] is None or isinstance(entry[4], dict))
    }
    listing = document.get("listing")
    valid = (
        isinstance(listing, dict)
        and isinstance(listing.get("files"), list)
        and all(isinstance(name, str) for name in listing["files"])
        and isinstance(listing.get("watched"), dict)
        and all(
            isinstance(stamp, list) and len(stamp) == 2 and all(type(n) is int for n in stamp)
            for stamp in listing["watched"].values()
        )
    )
    return entries, listing if valid else None


def _write_cache(cache_file: Path, entries: dict[str, list[Any]], listing: dict[str, Any] | None) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, prefix=".index-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            document = {"orm_lint": source_fingerprint(), "files": entries}
            if listing is not None:
                document["listing"] = listing
            json.dump(document, out, separators=(",", ":"))
        os.replace(temporary, cache_file)
    except OSError:
        pass  # an index that cannot be cached is built again next time


def _merge(root: str, named: list[tuple[str, ModuleFacts]]) -> ProjectIndex:
    index = ProjectIndex(root=root)
    modules = [module for _, module in named]
    methods: dict[str, list[str]] = {}
    for module in modules:
        for name, loaded in module.queryset_methods.items():
            if name in methods and methods[name] != loaded:
                index.ambiguous_methods.add(name)
            methods[name] = loaded
    index.queryset_methods = {k: frozenset(v) for k, v in methods.items() if k not in index.ambiguous_methods}
    serializers: dict[str, list[str]] = {}
    clashing: set[str] = set()
    for module in modules:
        for name, reads in module.serializers.items():
            if name in serializers and serializers[name] != reads:
                clashing.add(name)
            serializers[name] = reads
    index.serializers = {k: frozenset(v) for k, v in serializers.items() if k not in clashing}
    index.listed_serializers = frozenset(name for module in modules for name in module.listed_serializers)
    for module_path, module in named:
        for model in module.models:
            model.module = module_path
            index.candidates.setdefault(model.name, []).append(model)
    _inherit(index)
    if any(m.framework == "django" for found in index.candidates.values() for m in found):
        for name, relations in django.CONTRIB_RELATIONS.items():
            if name not in index.candidates:  # the project's own User replaces contrib's
                contrib = ModelFacts(name, "django", [], module="django.contrib")
                contrib.relations = {a: Relation(target, many) for a, (target, many) in relations.items()}
                index.candidates[name] = [contrib]
    for module_path, module in named:
        for owner, attribute, relation in module.added_relations:
            model = index.resolve(owner, module_path)
            declaring = index.resolve(relation.target or "", module_path)
            if model is None and owner not in index.candidates and declaring is not None:
                if declaring.framework == "sqlalchemy":  # a model known only from a `backref=`
                    model = ModelFacts(owner, declaring.framework, [], module=module_path)
                    index.candidates[owner] = [model]
            if model is not None and attribute not in model.relations:
                model.relations[attribute] = relation
    for name in list(index.candidates):
        found = [m for m in index.candidates[name] if m.framework]  # not plain classes no model base reaches
        if not found:
            del index.candidates[name]
            continue
        index.candidates[name] = found
        index.models[name] = found[0]
        if len(found) > 1:
            index.ambiguous.add(name)
    index_advice.attach(index, named)
    return index


def _inherit(index: ProjectIndex) -> None:
    """Relations and the framework of base classes (abstract models, mixins), nearest base first."""
    resolved: set[int] = set()

    def resolve(model: ModelFacts, seen: frozenset[int]) -> None:
        if id(model) in resolved or id(model) in seen:
            return
        for base in model.bases:
            parent = index.resolve(base, model.module)
            if parent is None or parent is model:
                continue
            resolve(parent, seen | {id(model)})
            model.framework = model.framework or parent.framework
            for attribute, relation in parent.relations.items():
                model.relations.setdefault(attribute, relation)
            for attribute, returned in parent.relation_properties.items():
                model.relation_properties.setdefault(attribute, returned)
            for method, reads in parent.method_reads.items():
                if method not in model.method_reads:
                    model.method_reads[method] = reads
                    if method in parent.properties:
                        model.properties.append(method)
        resolved.add(id(model))

    for found in list(index.candidates.values()):
        for model in found:
            resolve(model, frozenset())
