"""Which tables stay small, judged from the model's declaration alone.

Rules whose cost grows with a table's rows (a whole-table read, a NOT NULL scan, an UPDATE while
a lock is held) say so at a lower severity when the table is a lookup or configuration table: a
dozen sports, a handful of roles, one row of settings. A table that holds accounts, or that points
at another table (rows per owner), or that records when each row came, grows with use.

Between the two, a table whose declaration shows neither (a helpdesk's queues, a knowledge base's
articles) is of unknown size: a rule that needs rows to matter says so at a lower severity.
"""

from __future__ import annotations

import re

from collections.abc import Callable

from .model_facts import ModelFacts

Resolver = Callable[[str], "ModelFacts | None"]  # a model's class name -> its facts (ProjectIndex.model)

# Columns that record when a row came: tables that have them grow with use.
_WHEN_COLUMN = re.compile(r"(^|_)(created|updated|modified|joined|date|time|timestamp)|_(at|on)$")
# Columns of something people sign up for or log into (users, accounts, projects): one row per sign-up.
_ACCOUNT_COLUMN = re.compile(r"(^|_)(password|email|token|secret)($|_)")
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
    columns = set(model.columns) - {"id"}
    if model.module.startswith("django.contrib"):
        return None
    words = [word.lower() for word in _WORD.findall(model.name)]
    refers = any(not r.many for r in model.relations.values()) or any(c.endswith("_id") for c in columns)
    if refers or any(_ACCOUNT_COLUMN.search(column) for column in columns):
        # Rows per owner, or accounts; unless named for a short list (a forum's categories, a tournament's
        # break categories) with nothing saying rows come with use.
        if words and words[-1] in LOOKUP_WORDS and not grows_with_use(model, resolve):
            return f"{model.name} is named for a short list and shows no owners or arrival times, so it stays small"
        return None
    if set(words) & _CONFIGURATION_WORDS:
        return f"{model.name} is a configuration table, which stays small"
    if not any(_WHEN_COLUMN.search(column) for column in columns):
        return f"{model.name} refers to no other table, like a lookup table that stays small"
    if set(words) & LOOKUP_WORDS and len(columns) <= LOOKUP_COLUMNS:
        return f"{model.name} is named and shaped like a lookup table, which stays small"
    return None


# Columns that record when each row arrived (`created_at`, `date_joined`, `posted_on`, `timestamp`, the
# `history_date` of django-simple-history): one row per event. Not a copy of another row's time
# (`last_posted_at`) nor a setting about times (`prune_started_after`).
_ARRIVAL_COLUMN = re.compile(
    r"^(date_|time_)?(created|creation|added|inserted|joined|registered|posted|started|submitted|sent|received|"
    r"logged|recorded|occurred)(_(at|on|date|time|timestamp|datetime|ts))?$|^timestamp$|^history_date$"
)
# Credentials: one row per account.
_CREDENTIAL_COLUMN = re.compile(r"(^|_)(password|passwd|secret|token|api_key)($|_)")
# A foreign key under one of these names (or `<name>_id`) makes each row someone's: rows per user.
_OWNER_NAMES = frozenset({"user", "owner", "author", "creator", "created_by", "submitter", "sender", "poster"})
# Django's account bases, declared outside the project.
_ACCOUNT_BASES = frozenset({"AbstractUser", "AbstractBaseUser", "User"})


# A foreign key under these prefixes points at one row of many (the latest post, the default owner): the row
# holding it is not that row's child.
_POINTER_PREFIXES = ("last_", "latest_", "first_", "default_", "current_")


def grows_with_use(model: ModelFacts, resolve: Resolver | None = None, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether the declaration shows the table gaining rows as the application is used: accounts, rows
    per user, rows that record when each arrived, or rows that belong to a row of such a table (a photo's
    faces, a workout's segments; `resolve` finds a foreign key's model). Without that, a whole-table read
    or an index build may be of a handful of rows."""
    if model.module.startswith("django.contrib") or any(b.rsplit(".", 1)[-1] in _ACCOUNT_BASES for b in model.bases):
        return True  # Django's own user model, or one built on its account bases
    for column in model.columns:
        if _ARRIVAL_COLUMN.search(column) or _CREDENTIAL_COLUMN.search(column):
            return True
        if column.removesuffix("_id") in _OWNER_NAMES:
            return True
    parents = {name: r.target for name, r in model.relations.items() if not r.many}
    if any(name in _OWNER_NAMES for name in parents):
        return True
    if resolve is None:
        return False
    seen = _seen | {model.name}
    for name, target in parents.items():
        if target is None or target in seen or name.startswith(_POINTER_PREFIXES):
            continue
        parent = resolve(target)
        if parent is not None and grows_with_use(parent, resolve, seen):
            return True
    return False


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
