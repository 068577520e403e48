"""Indexes the project's own queries ask for, decided when the index is merged.

Every query site (project.query_sites) is resolved against the models: `author__email` becomes a condition
on `Author.email`, `data__plan` a key of the JSON column `data`. A site is served when an existing index
(primary key, unique constraint, foreign-key index, `Meta.indexes`, `index=True`, `Index(...)`, one an
Alembic revision created) leads with one of its equality columns, or, with no equality, with its first
ranged or ordered column. Sites no index serves are grouped by their equality columns; a group asks for a
composite index (equality columns first, the most used by the group first, then the range or sort column)
when its places weigh enough: an endpoint 2, other application code and jobs 1, a management command or
script 1/2, at least 2 in all (one endpoint, or two other places; 4 for a sort with no condition). Medium
severity from 4 with an endpoint among them, low below. Tiny lookup tables, columns holding few values
(booleans, enums, choices) alone, and models whose indexes cannot be read get no advice.

JSON keys filtered at two places or more (one ad-hoc lookup is not an access path) on a column no GIN or
expression index covers are recorded the same way, for the JSON rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..frameworks import models
from ..frameworks.sqlalchemy import snake_case
from .table_size import LOOKUP_COLUMNS, LOOKUP_WORDS, name_words

if TYPE_CHECKING:
    from .index import ProjectIndex
    from .model_facts import ModelFacts, ModuleFacts

WEIGHTS = {"endpoint": 2.0, "code": 1.0, "task": 1.0, "command": 0.5}
_ADVISED_WEIGHT = 2.0
_MEDIUM_WEIGHT = 4.0
JSON_KEY_PLACES = 2


@dataclass
class _View:
    """A model with what its bases declare merged in."""

    name: str
    framework: str
    columns: set[str] = field(default_factory=set)
    leading: list[list[str]] = field(default_factory=list)
    json_columns: set[str] = field(default_factory=set)
    json_indexed: set[str] = field(default_factory=set)
    poor_leaders: set[str] = field(default_factory=set)
    unreadable: bool = False


def attach(index: ProjectIndex, named: list[tuple[str, ModuleFacts]]) -> None:
    """Apply Alembic revisions' indexes to the models, then record on each model the indexes its queries ask for."""
    _apply_revisions(index, [module for _, module in named])
    sites: dict[int, list[tuple[ModelFacts, dict[str, Any]]]] = {}
    json_uses: dict[tuple[int, str, tuple[str, ...]], list[list[Any]]] = {}
    owners: dict[int, ModelFacts] = {}
    views: dict[int, _View | None] = {}
    for module_path, module in named:
        for site in module.query_sites:
            model = index.resolve(site["model"], module_path)
            if model is None or not model.framework or model.abstract:
                continue
            for owner, condition in _resolved(index, model, site, views):
                owners[id(owner)] = owner
                if condition.get("json"):
                    column, keys = condition["json"]
                    json_uses.setdefault((id(owner), column, keys), []).append(_place(site))
                else:
                    sites.setdefault(id(owner), []).append((owner, condition))
    for key, uses in sites.items():
        owner = owners[key]
        view = views.get(key)
        if view is not None and not view.unreadable and not _lookup_table(view):
            owner.asked_indexes = _advice(view, [condition for _, condition in uses])
    for (key, column, keys), places in sorted(json_uses.items(), key=lambda item: (item[0][1], item[0][2])):
        owner = owners[key]
        view = views.get(key)
        if view is None or view.unreadable or column in view.json_indexed or set(keys) & view.json_indexed:
            continue
        unique_places = _unique(places)
        if len(unique_places) >= JSON_KEY_PLACES:
            owner.json_key_filters.append({"column": column, "key": list(keys), "places": unique_places})


def _place(site: dict[str, Any]) -> list[Any]:
    return [site.get("path", ""), site["line"], site["function"], site["kind"]]


def _unique(places: list[list[Any]]) -> list[list[Any]]:
    seen: set[tuple[Any, ...]] = set()
    found = []
    for place in sorted(places, key=lambda p: (p[0], p[1])):
        if tuple(place) not in seen:
            seen.add(tuple(place))
            found.append(place)
    return found


def _apply_revisions(index: ProjectIndex, modules: list[ModuleFacts]) -> None:
    tables: dict[str, list[dict[str, Any]]] = {}
    for module in modules:
        for table, created in module.table_indexes.items():
            tables.setdefault(table, []).extend(created)
    if not tables:
        return
    for found in index.candidates.values():
        for model in found:
            if model.framework != "sqlalchemy":
                continue
            for created in tables.get(model.table or snake_case(model.name), []):
                columns = list(created["columns"])
                model.leading_indexes.append(columns)
                model.revision_indexes.append(columns)
                if created.get("unique"):
                    model.unique_sets.append(sorted(columns))


def _view(index: ProjectIndex, model: ModelFacts, views: dict[int, _View | None]) -> _View | None:
    if id(model) in views:
        return views[id(model)]
    view = _View(model.name, model.framework)
    pending, seen = [model], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        view.columns.update(current.columns)
        view.leading.extend(current.leading_indexes)
        view.json_columns.update(current.json_columns)
        view.json_indexed.update(current.json_indexed)
        view.poor_leaders.update(current.poor_leaders)
        view.unreadable |= current.unreadable_indexes
        for base in current.bases:
            if base in models.MODEL_ROOT_BASES:
                continue
            parent = index.resolve(base, current.module)
            if parent is not None:  # a base out of sight adds columns no advice is given for
                pending.append(parent)
    if model.framework == "django":
        view.columns |= {"id"}
        view.leading.append(["id"])
    views[id(model)] = view
    return view


def _resolved(
    index: ProjectIndex, model: ModelFacts, site: dict[str, Any], views: dict[int, _View | None]
) -> list[tuple[ModelFacts, dict[str, Any]]]:
    """The site's conditions per model they fall on: {"eq", "range", "order", "place"} or {"json": (column, keys)}."""
    found: dict[int, tuple[ModelFacts, dict[str, Any]]] = {}
    jsons: list[tuple[ModelFacts, dict[str, Any]]] = []
    place = _place(site)
    # Conditions the site has beyond the plain columns of its model (a key, a relation, `or_`, IS NULL): its rows
    # are narrowed elsewhere, so a sort or a range alone is not what decides its plan.
    elsewhere = bool(site.get("other"))
    for kind in ("eq", "range", "order"):
        for path in site[kind]:
            target = _column(index, model, list(path), views)
            if target is None or target[0] is not model or target[2]:
                elsewhere = elsewhere or kind != "order"
            if target is None:
                continue
            owner, column, keys = target
            if keys:
                if kind == "eq":
                    jsons.append((owner, {"json": (column, tuple(keys))}))
                continue
            if kind == "order" and owner is not model:
                continue  # a sort on a joined table's column: no index on it serves this query
            condition = found.setdefault(
                id(owner), (owner, {"eq": [], "range": [], "order": [], "place": place, "elsewhere": False})
            )[1]
            if column not in condition[kind]:
                condition[kind].append(column)
    for owner, condition in found.values():
        condition["elsewhere"] = elsewhere or owner is not model
    for owner, _ in found.values():
        _view(index, owner, views)
    for owner, _ in jsons:
        _view(index, owner, views)
    return [*found.values(), *jsons]


def _column(
    index: ProjectIndex, model: ModelFacts, path: list[str], views: dict[int, _View | None]
) -> tuple[ModelFacts, str, list[str]] | None:
    """(model, column, JSON keys) a lookup path names; None for what is not a plain column of a known model."""
    view = _view(index, model, views)
    if view is None or not path:
        return None
    first, rest = path[0], path[1:]
    django = model.framework == "django"
    if django and first == "pk":
        return model, "id", []
    if django and first.endswith("_id") and first[:-3] in model.relations and not rest:
        first = first[:-3]
    relation = model.relations.get(first)
    if relation is not None and django:
        if not rest or rest[0] in {"id", "pk"}:
            return (model, first, []) if not relation.many and first in view.columns and len(rest) <= 1 else None
        target = index.resolve(relation.target or "", model.module)
        if target is None or len(rest) != 1 or target.abstract:
            return None
        target_view = _view(index, target, views)
        if target_view is None or rest[0] not in target_view.columns or rest[0] in target.relations:
            return None
        return target, rest[0], []
    if first in view.json_columns and rest:
        return model, first, rest
    if first in view.columns and not rest and relation is None:
        return model, first, []
    return None


def _lookup_table(view: _View) -> bool:
    return bool(name_words(view.name) & LOOKUP_WORDS) and len(view.columns - {"id"}) <= LOOKUP_COLUMNS


def _advice(view: _View, conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The indexes no existing one replaces, each with the places that ask for it."""
    leaders = {columns[0] for columns in view.leading if columns}
    usage = Counter(column for condition in conditions for column in condition["eq"])
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for condition in conditions:
        equal = condition["eq"]
        after = condition["range"] + condition["order"]
        if set(equal) & leaders or (not equal and (not after or after[0] in leaders or condition["elsewhere"])):
            continue
        if equal and not set(equal) - view.poor_leaders:
            continue  # only few-valued columns to lead with: a scan of them reads most rows anyway
        key = tuple(sorted(equal, key=lambda c: (c in view.poor_leaders, -usage[c], c))) or (after[0],)
        if key[0] in view.poor_leaders:
            continue
        groups.setdefault(key, []).append(condition)
    advice = []
    for key, members in groups.items():
        places = _unique([m["place"] for m in members])
        sort_only = not any(m["eq"] or m["range"] for m in members)
        if _weight(places) < (_MEDIUM_WEIGHT if sort_only else _ADVISED_WEIGHT):
            continue  # a sort alone scans the table only when paged, and a table listed whole is often small
        columns = list(key)
        if len(members[0]["eq"]):
            following = Counter(
                column for m in members for column in (m["range"] + m["order"])[:1] if column not in columns
            )
            if following:
                columns.append(sorted(following.items(), key=lambda item: (-item[1], item[0]))[0][0])
        advice.append({"columns": columns, "places": places})
    folded = _folded(sorted(advice, key=lambda a: (-len(a["places"]), a["columns"])))
    for item in folded:
        endpoint = any(place[3] == "endpoint" for place in item["places"])
        item["severity"] = "medium" if endpoint and _weight(item["places"]) >= _MEDIUM_WEIGHT else "low"
    return folded


def _weight(places: list[list[Any]]) -> float:
    return sum(WEIGHTS.get(str(place[3]), 1.0) for place in places)


def _folded(advice: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An index whose columns begin another advised one is served by it: one index, both groups' places."""
    kept: list[dict[str, Any]] = []
    for item in sorted(advice, key=lambda a: -len(a["columns"])):
        longer = next((k for k in kept if k["columns"][: len(item["columns"])] == item["columns"]), None)
        if longer is None:
            kept.append(item)
            continue
        longer["places"] = _unique(longer["places"] + item["places"])
    return sorted(kept, key=lambda a: (-len(a["places"]), a["columns"]))
