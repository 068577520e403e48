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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..files import walk
from ..fingerprint import source_fingerprint
from ..frameworks import django
from .model_facts import ModelFacts, ModuleFacts, Relation, may_declare_models, module_facts

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
    digest: str = ""  # changes whenever any model fact does: part of every cached result's key

    def model(self, name: str | None) -> ModelFacts | None:
        if not name or name in self.ambiguous:
            return None
        return self.models.get(name)

    def relation(self, model: str | None, attribute: str) -> Relation | None:
        facts = self.model(model)
        return facts.relations.get(attribute) if facts is not None else None


EMPTY = ProjectIndex(root="")


def project_root(path: str | Path) -> Path:
    """The nearest folder above `path` with a project marker; the file's own folder when there is none."""
    start = os.path.abspath(path)
    return _root_of_folder(start if os.path.isdir(start) else os.path.dirname(start))


@lru_cache(maxsize=256)
def _root_of_folder(folder: str) -> Path:
    """The nearest folder with a project marker; without one, the folder above the outermost package."""
    for candidate in (Path(folder), *Path(folder).parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    root = Path(folder)
    while (root / "__init__.py").exists() and root.parent != root:
        root = root.parent
    return root


@lru_cache(maxsize=8)
def index_for_root(root: str, cache_root: str | None) -> ProjectIndex:
    """The index of the project at `root`, read from and written back to the cache under `cache_root`."""
    place = hashlib.sha256(root.encode(errors="surrogateescape")).hexdigest()[:24]
    cache_file = Path(cache_root) / place / "index.json" if cache_root else None
    cached = _read_cache(cache_file)
    entries: dict[str, list[Any]] = {}
    changed = False
    for path in _python_files(root):
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
            entries[relative] = [status.st_size, status.st_mtime_ns, digest, trusted, _facts_json(data)]
        changed = True
    if len(entries) != len(cached):
        changed = True
    if cache_file is not None and changed:
        _write_cache(cache_file, entries)
    return _merge(root, [ModuleFacts.from_json(entry[4]) for entry in entries.values() if entry[4]])


def _facts_json(data: bytes) -> dict[str, Any] | None:
    if not may_declare_models(data):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        facts = module_facts(tree)
    except RecursionError:
        return None
    useful = facts.models or facts.added_relations or facts.queryset_methods or facts.serializers
    return facts.as_json() if useful else None


def _python_files(root: str) -> list[str]:
    """The project's Python files, found as `orm-lint check` finds them (ignore files, environments, FIFOs)."""
    found: list[str] = []
    for path in walk(Path(root), (".py",), _left_out):
        found.append(str(path))
        if len(found) > _MAX_FILES:
            return []
    return found


def _left_out(path: Path) -> bool:
    """Hidden files and folders, and migration histories."""
    return path.name.startswith(".") or path.name in _HISTORY


def _read_cache(cache_file: Path | None) -> dict[str, list[Any]]:
    if cache_file is None:
        return {}
    try:
        document = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("orm_lint") != source_fingerprint():
        return {}
    files = document.get("files")
    if not isinstance(files, dict):
        return {}
    return {
        name: entry
        for name, entry in files.items()
        if isinstance(entry, list) and len(entry) == 5 and (entry[4] is None or isinstance(entry[4], dict))
    }


def _write_cache(cache_file: Path, entries: dict[str, list[Any]]) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, prefix=".index-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"orm_lint": source_fingerprint(), "files": entries}, out)
        os.replace(temporary, cache_file)
    except OSError:
        pass  # an index that cannot be cached is built again next time


def _merge(root: str, modules: list[ModuleFacts]) -> ProjectIndex:
    index = ProjectIndex(root=root)
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
    for module in modules:
        for model in module.models:
            known = index.models.get(model.name)
            if known is not None and known.as_json() != model.as_json():
                index.ambiguous.add(model.name)
            index.models[model.name] = model
    _inherit(index)
    if any(model.framework == "django" for model in index.models.values()):
        for name, relations in django.CONTRIB_RELATIONS.items():
            if name not in index.models:  # the project's own User replaces contrib's
                contrib = ModelFacts(name, "django", [])
                contrib.relations = {a: Relation(target, many) for a, (target, many) in relations.items()}
                index.models[name] = contrib
    for module in modules:
        for owner, attribute, relation in module.added_relations:
            model = index.models.get(owner)
            declaring = index.models.get(relation.target or "")
            if model is None and declaring is not None and declaring.framework == "sqlalchemy":  # only a `backref=`
                model = index.models[owner] = ModelFacts(owner, declaring.framework, [])
            if model is not None and attribute not in model.relations:
                model.relations[attribute] = relation
    for name, model in list(index.models.items()):
        if not model.framework:
            del index.models[name]  # a plain class that no model base reaches
    index.digest = hashlib.sha256(
        json.dumps([m.as_json() for m in index.models.values()], sort_keys=True).encode()
        + json.dumps({k: sorted(v) for k, v in index.queryset_methods.items()}, sort_keys=True).encode()
        + json.dumps({k: sorted(v) for k, v in index.serializers.items()}, sort_keys=True).encode()
        + json.dumps(sorted(index.ambiguous)).encode()
    ).hexdigest()[:16]
    return index


def _inherit(index: ProjectIndex) -> None:
    """Relations and the framework of base classes (abstract models, mixins), nearest base first."""
    resolved: set[str] = set()

    def resolve(name: str, seen: frozenset[str]) -> None:
        model = index.models.get(name)
        if model is None or name in resolved or name in seen:
            return
        for base in model.bases:
            if base == name:
                continue
            resolve(base, seen | {name})
            parent = index.models.get(base)
            if parent is None:
                continue
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
        resolved.add(name)

    for name in list(index.models):
        resolve(name, frozenset())
