"""How many rows a model's table holds, as far as its declaration shows.

Rules whose cost grows with a table's rows (a whole-table read, a NOT NULL scan, an index build
or an UPDATE while a lock is held) say so at a lower severity when the table stays small or when
nothing shows it growing.

- **Stays small** (`stays_small`): a lookup or configuration table, a dozen sports, a handful of
  roles, one row of settings. No foreign key, no account columns, and named for settings, or with no
  column saying when a row came or changed, or named and shaped like a short list; or named for a
  short list (a forum's categories) with nothing showing it grows.
- **Grows with use** (`grows_with_use`): accounts (credentials, Django's user), rows per user (an
  owner foreign key: `user`, `owner`, `author`, ...), rows that record when each arrived
  (`created_at`, `posted_on`, `timestamp`, ...), and the rows of a row of such a table (a photo's
  faces), through abstract bases too. Not through a pointer at one row of another table
  (`last_thread`, `default_owner`).
- Between the two, a table of unknown size (a helpdesk's queues, a knowledge base's articles).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .model_facts import ModelFacts

Resolver = Callable[[str], "ModelFacts | None"]  # a model's class name -> its facts (ProjectIndex.model)

# Columns that say when a row came or changed (any time column): a lookup table has none.
_WHEN_COLUMN = re.compile(r"(^|_)(created|updated|modified|joined|date|time|timestamp)|_(at|on)$")
# Columns of something people sign up for or log into, or are reached at: not a lookup table.
_ACCOUNT_COLUMN = re.compile(r"(^|_)(password|email|token|secret)($|_)")
# Columns that record when each row arrived (`created_at`, `date_joined`, `posted_on`, `timestamp`, the
# `history_date` of django-simple-history): one row per event. Not a copy of another row's time
# (`last_posted_at`) nor a setting about times (`prune_started_after`).
_ARRIVAL_COLUMN = re.compile(
    r"^(date_|time_)?(created|creation|added|inserted|joined|registered|posted|started|submitted|sent|received|"
    r"logged|recorded|occurred)(_(at|on|date|time|timestamp|datetime|ts))?$|^timestamp$|^history_date$"
)
# Credentials: one row per account (an email alone is a contact, not an account).
_CREDENTIAL_COLUMN = re.compile(r"(^|_)(password|passwd|secret|token|api_key)($|_)")
# A foreign key under one of these names (or `<name>_id`) makes each row someone's: rows per user.
_OWNER_NAMES = frozenset({"user", "owner", "author", "creator", "created_by", "submitter", "sender", "poster"})
# Django's account bases, declared outside the project.
_ACCOUNT_BASES = frozenset({"AbstractUser", "AbstractBaseUser", "User"})
# Bases outside the project that add an arrival time (django-model-utils', django-extensions' TimeStampedModel).
_ARRIVAL_BASE = re.compile(r"TimeStamped|Timestamped|Created")
# A foreign key under these prefixes points at one row of many (the latest post, the default owner): the row
# holding it is not that row's child.
_POINTER_PREFIXES = ("last_", "latest_", "first_", "default_", "current_")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# A model named for settings holds one row, or one per setting.
_CONFIGURATION_WORDS = frozenset({"config", "configuration", "settings", "preferences"})
# A model named for a short list (a type, a status, a role) with few columns holds few rows.
LOOKUP_WORDS = frozenset(
    {
        "type", "types", "kind", "kinds", "status", "statuses", "category", "categories", "country", "countries",
        "language", "languages", "currency", "currencies", "locale", "timezone", "unit", "units", "role", "roles",
        "permission", "permissions", "setting", "settings", "config", "configuration", "choice", "choices",
        "option", "options", "flag", "flags", "level", "levels", "state", "states", "region", "regions",
    }
)  # fmt: skip
LOOKUP_COLUMNS = 4


def name_words(name: str) -> set[str]:
    """`EquipmentType` -> {"equipment", "type"}."""
    return {word.lower() for word in _WORD.findall(name)}


def stays_small(model: ModelFacts, resolve: Resolver | None = None) -> str | None:
    """Why the model's table likely holds few rows (said in a finding's message), or None."""
    if model.module.startswith("django.contrib"):
        return None
    columns = set(_own_and_inherited_columns(model, resolve)) - {"id"}
    words = name_words(model.name)
    refers = any(not r.many for r in model.relations.values()) or any(c.endswith("_id") for c in columns)
    if refers or any(_ACCOUNT_COLUMN.search(column) for column in columns):
        # Rows per owner, or accounts; unless named for a short list (a forum's categories, a tournament's
        # break categories) with nothing saying rows come with use.
        head = _WORD.findall(model.name)[-1:]
        if head and head[0].lower() in LOOKUP_WORDS and not grows_with_use(model, resolve):
            return f"{model.name} is named for a short list and shows no owners or arrival times, so it stays small"
        return None
    if words & _CONFIGURATION_WORDS:
        return f"{model.name} is a configuration table, which stays small"
    if not any(_WHEN_COLUMN.search(column) for column in columns):
        return f"{model.name} refers to no other table, like a lookup table that stays small"
    if words & LOOKUP_WORDS and len(columns) <= LOOKUP_COLUMNS:
        return f"{model.name} is named and shaped like a lookup table, which stays small"
    return None


def grows_with_use(model: ModelFacts, resolve: Resolver | None = None) -> bool:
    """Whether the declaration shows the table gaining rows as the application is used (see the module's
    docstring); `resolve` finds the models of its bases and foreign keys. Each model is looked at once."""
    pending, seen = [model], {model.name}
    while pending:
        current = pending.pop()
        if _shows_growth(current):
            return True
        if resolve is None:
            continue
        for related in _bases_and_parents(current):
            found = resolve(related) if related not in seen else None
            if found is not None:
                seen.add(related)
                pending.append(found)
    return False


def _shows_growth(model: ModelFacts) -> bool:
    if model.module.startswith("django.contrib"):
        return True  # Django's own user model (the index's stand-in for contrib's models)
    for base in model.bases:
        short = base.rsplit(".", 1)[-1]
        if short in _ACCOUNT_BASES or _ARRIVAL_BASE.search(short):
            return True
    for column in model.columns:
        if _ARRIVAL_COLUMN.search(column) or _CREDENTIAL_COLUMN.search(column):
            return True
        if column.removesuffix("_id") in _OWNER_NAMES:
            return True
    return any(name in _OWNER_NAMES and not r.many for name, r in model.relations.items())


def _bases_and_parents(model: ModelFacts) -> Iterator[str]:
    """The models whose columns this one inherits, then those its rows belong to (not pointers at one row)."""
    yield from (base.rsplit(".", 1)[-1] for base in model.bases)
    for name, relation in model.relations.items():
        if not relation.many and relation.target and not name.startswith(_POINTER_PREFIXES):
            yield relation.target


def _own_and_inherited_columns(model: ModelFacts, resolve: Resolver | None) -> list[str]:
    """The model's columns, with those of the bases the project declares (an abstract `TimeStamped`)."""
    columns, pending, seen = list(model.columns), list(model.bases), {model.name}
    while pending and resolve is not None:
        name = pending.pop().rsplit(".", 1)[-1]
        base = resolve(name) if name not in seen else None
        seen.add(name)
        if base is not None:
            columns.extend(base.columns)
            pending.extend(base.bases)
    return columns


def unknown_size(model: ModelFacts, resolve: Resolver | None = None) -> str | None:
    """Said in a finding whose cost needs rows, when the declaration shows no sign of the table growing."""
    if grows_with_use(model, resolve):
        return None
    return f"nothing in {model.name} shows it growing with use: no accounts, owners or arrival times"


def model_of_table(models: list[ModelFacts], table: str, near: str = "", app: str | None = None) -> ModelFacts | None:
    """The model whose table a migration names: `__tablename__`, a Django model's lowercased name (of the
    migration's `app`, when given: another app's model of that name is another table), or its default
    `<app>_<model>` table; None when none or several match."""
    table = table.strip('"`').lower().rsplit(".", 1)[-1]
    found = [
        m
        for m in models
        if not m.abstract
        and (
            m.table.lower() == table
            if m.table
            else (m.name.lower() == table and app in (None, app_of(m))) or table == f"{app_of(m)}_{m.name.lower()}"
        )
    ]
    if len(found) > 1 and near:
        found = [m for m in found if m.module.split(".")[0] == near.split(".")[0]] or found
    return found[0] if len(found) == 1 else None


def app_of(model: ModelFacts) -> str:
    """Django's default app label of a model: the package of its `models` module (`shop.models.book` -> shop)."""
    parts = model.module.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    return parts[-2] if len(parts) > 1 else ""
