"""Settings from `[tool.orm-lint]` in pyproject.toml or `[orm-lint]` in setup.cfg / mypy.ini.

One table, read the same way by the flake8 plugin, the mypy plugin and `orm-lint check`.
Every key is declared once in `KEYS` (how it is read, its type, default and description);
docs/configuration.md is generated from it. Unknown keys are warned about (a typo must not
silently change nothing); a value of the wrong type is an error naming the key and the file.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalogue import Framework, Rule, Severity, use_configuration
from .config_values import ConfigError, severity_named

if TYPE_CHECKING:
    from .catalogue import ConfiguredRule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


# Set by `orm-lint check` for the mypy it runs: where the project's settings are searched from.
SETTINGS_FOLDER_VARIABLE = "ORM_LINT_SETTINGS_FOLDER"
# Set by `orm-lint check` for the mypy it runs: the modules it left out because they cannot be parsed.
LEFT_OUT_VARIABLE = "ORM_LINT_LEFT_OUT"
# Which migrations the migration rules review (see migration_scope.py).
MIGRATIONS_NEW = "new"
MIGRATIONS_ALL = "all"
MIGRATION_CHOICES = (MIGRATIONS_NEW, MIGRATIONS_ALL)
# Whether test modules are checked (see tests_scope.py).
TESTS_SKIP = "skip"
TESTS_CHECK = "check"
TEST_CHOICES = (TESTS_SKIP, TESTS_CHECK)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, code prefixes)
    exclude: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()  # (code prefix, severity)
    frameworks: tuple[Framework, ...] = ()
    endpoint_decorators: frozenset[str] = frozenset()
    pagination_helpers: frozenset[str] = frozenset()
    jobs: int | None = None
    cache_dir: str | None = None  # the syntax engine's results cache (absolute); None: the default place
    backend: str | None = None  # postgresql, mysql or sqlite: some migration rules depend on it
    migrations: str = MIGRATIONS_NEW  # "new": the migration rules review new migrations only; "all"
    tests: str = TESTS_SKIP  # "skip": test modules are not checked; "check"
    tenant_column: str | None = None  # opt-in tenant isolation rule (ORM202)
    user_rules: tuple[ConfiguredRule, ...] = ()
    source: str | None = None  # the file the settings came from
    warnings: tuple[str, ...] = field(default=(), compare=False)


BACKENDS = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "psql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}
_ENTRY = re.compile(r"^\s*(?P<key>[^:=]+?)\s*[:=]\s*(?P<value>.*?)\s*$")


# -- readers: (value, key, origin) -> the Settings value; raise ConfigError naming key and file --
def _as_list(value: Any, key: str, origin: str) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.replace("\n", ",").split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: `{key}` must be a list of strings, got {value!r}")
    return [v.strip() for v in value if v.strip()]


def _as_table(value: Any, key: str, origin: str) -> dict[str, Any]:
    """A TOML table, or in an ini file one `key: value` (or `key = value`) per line."""
    if isinstance(value, str):
        table: dict[str, Any] = {}
        for line in value.splitlines():
            if not line.strip():
                continue
            entry = _ENTRY.match(line)
            if entry is None:
                raise ConfigError(f"{origin}: `{key}` lines must read `KEY: VALUE`, got {line.strip()!r}")
            table[entry["key"]] = entry["value"]
        return table
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: `{key}` must be a table, got {value!r}")
    return value


def _checked_codes(codes: Iterable[str], key: str, origin: str) -> tuple[str, ...]:
    upper = tuple(c.strip().upper() for c in codes)
    bad = [c for c in upper if not c.startswith("ORM")]
    if bad:
        raise ConfigError(f"{origin}: `{key}` holds codes that are not orm-lint codes: {', '.join(bad)}")
    return upper


def _codes(value: Any, key: str, origin: str) -> tuple[str, ...]:
    return _checked_codes(_as_list(value, key, origin), key, origin)


def _strings(value: Any, key: str, origin: str) -> tuple[str, ...]:
    return tuple(_as_list(value, key, origin))


def _names(value: Any, key: str, origin: str) -> frozenset[str]:
    return frozenset(_as_list(value, key, origin))


def _positive_int(value: Any, key: str, origin: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{origin}: `{key}` must be a whole number, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: `{key}` must be a whole number, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"{origin}: `{key}` must be at least 1, got {number}")
    return number


def _folder(value: Any, key: str, origin: str) -> str:
    """A folder, relative to the configuration file's folder; `~` is expanded."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{origin}: `{key}` must be a folder path, got {value!r}")
    return str(Path(origin).resolve().parent / Path(value.strip()).expanduser())


def _backend(value: Any, key: str, origin: str) -> str:
    backend = BACKENDS.get(str(value).strip().lower())
    if backend is None:
        raise ConfigError(f"{origin}: `{key}` must be one of postgresql, mysql, sqlite; got {value!r}")
    return backend


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, str, str], str]:
    """A reader for a setting that takes one of a few words."""

    def read(value: Any, key: str, origin: str) -> str:
        choice = str(value).strip().lower()
        if choice not in choices:
            raise ConfigError(f"{origin}: `{key}` must be one of {', '.join(choices)}; got {value!r}")
        return choice

    return read


def _identifier(value: Any, key: str, origin: str) -> str:
    if not isinstance(value, str) or not value.strip().isidentifier():
        raise ConfigError(f"{origin}: `{key}` must be a column name, got {value!r}")
    return value.strip()


def _per_path_codes(value: Any, key: str, origin: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    entries = []
    for glob, codes in _as_table(value, key, origin).items():
        listed = codes.replace(" ", ",") if isinstance(codes, str) else codes
        entries.append((glob, _checked_codes(_as_list(listed, f"{key}.{glob}", origin), f"{key}.{glob}", origin)))
    return tuple(entries)


def _severities(value: Any, key: str, origin: str) -> tuple[tuple[str, Severity], ...]:
    table = _as_table(value, key, origin)
    codes = _checked_codes(table, key, origin)
    return tuple((code, severity_named(v, f"{key}.{code}", origin)) for code, v in zip(codes, table.values()))


FRAMEWORK_NAMES = {f.value.replace("_", "-"): f for f in Framework} | {f.value: f for f in Framework}


def _frameworks(value: Any, key: str, origin: str) -> tuple[Framework, ...]:
    names = [n.lower() for n in _as_list(value, key, origin)]
    unknown = [n for n in names if n not in FRAMEWORK_NAMES]
    if unknown:
        known = ", ".join(f.value.replace("_", "-") for f in Framework)
        raise ConfigError(f"{origin}: `{key}` holds unknown frameworks {', '.join(unknown)}; known: {known}")
    return tuple(dict.fromkeys(FRAMEWORK_NAMES[n] for n in names))


def _user_rules(value: Any, key: str, origin: str) -> tuple[ConfiguredRule, ...]:
    from .user_rules import parse_user_rules  # ast-grep is needed only by projects that declare rules

    return parse_user_rules(value, key, origin)


@dataclass(frozen=True)
class Key:
    """One setting: how it is read, and its row in docs/configuration.md."""

    name: str
    attribute: str
    read: Callable[[Any, str, str], Any]
    type: str
    default: str
    description: str
    example: str


# fmt: off
KEYS: tuple[Key, ...] = (
    Key(
        "select", "select", _codes, "list of code prefixes", "all rules",
        "Codes to report. As in flake8, the longest prefix matching a code, in `select` or `ignore`, decides.",
        '["ORM1", "ORM201"]',
    ),
    Key(
        "ignore", "ignore", _codes, "list of code prefixes", "none",
        "Codes to leave out.",
        '["ORM104"]',
    ),
    Key(
        "per-path-ignores", "per_path_ignores", _per_path_codes, "table: glob → list of code prefixes", "none",
        "Codes to leave out in some files. Globs are matched like `exclude`, against paths relative to the "
        "configuration file's folder. Applied by flake8, `orm-lint check` and the mypy plugin. In an ini file: "
        "one `GLOB: CODES` per line.",
        '{ "tests/*" = ["ORM1"], "*/migrations/*" = ["ORM"] }',
    ),
    Key(
        "exclude", "exclude", _strings, "list of globs", "none",
        "Paths `orm-lint check` skips (a glob matches a file or folder name, a relative path, or a path's tail), "
        "besides what `.gitignore` says.",
        '["*/migrations/*", "tests"]',
    ),
    Key(
        "severity", "severity", _severities, "table: code prefix → severity", "each rule's own",
        "Severity overrides (critical, high, medium, low) for the text, JSON and SARIF output and the report's "
        "counts; the longest matching prefix wins. In an ini file: one `CODE: SEVERITY` per line.",
        '{ ORM104 = "medium", ORM5 = "critical" }',
    ),
    Key(
        "frameworks", "frameworks", _frameworks, "list of framework names", "all",
        "The ORMs the project uses: django, sqlalchemy, sqlmodel, flask-sqlalchemy. Checked and recorded; "
        "rules that read code differently per framework will use it.",
        '["django"]',
    ),
    Key(
        "endpoint-decorators", "endpoint_decorators", _names, "list of names", "none",
        "Decorators that mark list endpoints, besides the frameworks' own (ORM103).",
        '["api.route", "list_endpoint"]',
    ),
    Key(
        "pagination-helpers", "pagination_helpers", _names, "list of names", "none",
        "Functions or methods that bound a result, besides Django's paginators and `paginate`: a query handed "
        "to one is not an unbounded list (ORM103).",
        '["paginate_queryset", "paged"]',
    ),
    Key(
        "backend", "backend", _backend, "postgresql, mysql or sqlite", "none",
        "The database: some migration rules depend on it (ORM4xx).",
        '"postgresql"',
    ),
    Key(
        "migrations", "migrations", _one_of(MIGRATION_CHOICES), "new or all", "new",
        "Which migrations the migration rules (ORM4xx) review. `new`: in a git checkout, the migrations added or "
        "changed since the merge base with the default branch (`origin/HEAD`, else `main`/`master`), and files "
        "git does not have; every migration outside git or when that base cannot be found. `all`: every "
        "migration. `--migrations` overrides it for one run; flake8 follows it too. Either way, ORM402-ORM406 "
        "leave out a table or column that git shows came in the same release as the migration (see those rules).",
        '"all"',
    ),
    Key(
        "tests", "tests", _one_of(TEST_CHOICES), "skip or check", "skip",
        "Whether test modules (`tests/` and `test/` folders, `test_*.py`, `*_test.py`, `*_tests.py`, `tests.py`, "
        "`conftest.py`, judged inside the project) are checked. Test code runs against a throwaway database and "
        "takes no user input, so by default it is not checked, and the summary says how many modules that left "
        "out. `--tests` overrides it for one run; flake8 and the mypy plugin follow it too.",
        '"check"',
    ),
    Key(
        "tenant-column", "tenant_column", _identifier, "column name", "none (rule off)",
        "Turns the tenant isolation rule on: queries on models with this column must filter on it (ORM202).",
        '"tenant_id"',
    ),
    Key(
        "jobs", "jobs", _positive_int, "whole number ≥ 1", "one per core",
        "Worker processes for `orm-lint check`.",
        "2",
    ),
    Key(
        "cache-dir", "cache_dir", _folder, "folder", "`$XDG_CACHE_HOME/orm-lint/results` (`~/.cache/…`)",
        "Where `orm-lint check`, `report` and `baseline` keep each file's syntax-engine findings between runs, "
        "relative to the configuration file's folder. Entries are keyed on the file's content, orm-lint's own "
        "code and the settings, so a stale result is never used; delete the folder any time. `--no-cache` "
        "skips it for one run. The mypy run of `orm-lint check` keeps its cache in `mypy/` inside it.",
        '".cache/orm-lint"',
    ),
    Key(
        "rules", "user_rules", _user_rules, "array of tables", "none",
        "The project's own rules, as ast-grep patterns (see [Your own rules](#your-own-rules)); pyproject.toml "
        "only.",
        '[{ code = "ORM901", name = "…", pattern = "…", message = "…" }]',
    ),
)
# fmt: on
KEYS_BY_NAME = {key.name: key for key in KEYS}
KNOWN_KEYS = tuple(KEYS_BY_NAME)


def _convert(raw: dict[str, Any], origin: str) -> Settings:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name, value in raw.items():
        key = KEYS_BY_NAME.get(name.replace("_", "-"))
        if key is None:
            warnings.append(f"{origin}: unknown setting `{name}` ignored (known: {', '.join(KNOWN_KEYS)})")
            continue
        values[key.attribute] = key.read(value, name, origin)
    return Settings(**values, source=origin, warnings=tuple(warnings))


def _from_pyproject(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from None
    section = data.get("tool", {}).get("orm-lint")
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.orm-lint] must be a table")
    return section


def _from_setup_cfg(path: Path) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error) as error:
        raise ConfigError(f"{path}: cannot read it: {error}") from None
    if not parser.has_section("orm-lint"):
        return None
    return dict(parser.items("orm-lint"))


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest pyproject.toml, setup.cfg or mypy.ini, from `start` upwards, holding our section."""
    for folder in [start, *start.parents]:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _from_pyproject(pyproject)
            if section is not None:
                return pyproject, section
        for name in ("setup.cfg", "mypy.ini", ".mypy.ini"):
            ini = folder / name
            if ini.is_file():
                section = _from_setup_cfg(ini)
                if section is not None:
                    return ini, section
    return None


def rule_enabled(code: str, settings: Settings) -> bool:
    """flake8's prefix semantics: the longest matching prefix of select and ignore wins."""
    chosen = max((len(c) for c in settings.select if code.startswith(c)), default=-1 if settings.select else 0)
    ignored = max((len(c) for c in settings.ignore if code.startswith(c)), default=-1)
    return chosen >= 0 and chosen >= ignored


def effective_severity(rule: Rule, settings: Settings) -> Severity:
    """The rule's severity in this project: the longest matching `severity` override, else its own."""
    best = max((c for c, _ in settings.severity if rule.code.startswith(c)), key=len, default=None)
    return dict(settings.severity)[best] if best is not None else rule.severity


@lru_cache(maxsize=8)
def _config_folder(source: str) -> str:
    return str(Path(source).resolve().parent)


def config_relative(path: str, settings: Settings) -> str:
    """A file's path relative to the configuration file's folder, `/`-separated (as given when outside)."""
    text = path.replace("\\", "/").removeprefix("./")
    if settings.source is None:
        return text
    folder = _config_folder(settings.source)
    for candidate in (os.path.abspath(path), str(Path(path).resolve())):
        relative = os.path.relpath(candidate, folder)
        if not relative.startswith(".."):
            return relative.replace("\\", "/")
    return text


def path_matches(relative: str, globs: Iterable[str]) -> bool:
    """`exclude`'s matching: a glob matches the file name, the relative path or the path's tail."""
    name = relative.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatch(name, glob) or fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(relative, f"*/{glob}")
        for glob in globs
    )


def ignored_in_file(path: str, settings: Settings) -> tuple[str, ...]:
    """The code prefixes `per-path-ignores` leaves out in this file."""
    if not settings.per_path_ignores:
        return ()
    relative = config_relative(path, settings)
    return tuple(code for glob, codes in settings.per_path_ignores if path_matches(relative, (glob,)) for code in codes)


def _in_force(settings: Settings) -> Settings:
    """Put the project's rules and severity overrides in the catalogue every reader consults."""
    use_configuration(settings.user_rules, lambda rule: effective_severity(rule, settings))
    return settings


def load_settings(start: Path | None = None, also: Path | None = None) -> Settings:
    """Settings for a run started in `start` (default: the current folder).

    `also` is a configuration file named explicitly (mypy's `--config-file`): its
    `[orm-lint]` section, when it has one, wins over the search.
    """
    if also is not None and also.is_file() and also.suffix != ".toml":
        section = _from_setup_cfg(also)
        if section is not None:
            return _in_force(_convert(section, str(also)))
    found = find_config((start or Path.cwd()).resolve())
    if found is None:
        return _in_force(Settings())
    path, section = found
    return _in_force(_convert(section, str(path)))


@lru_cache(maxsize=1)
def load_settings_quietly() -> Settings:
    """For the flake8 plugin: read once per process, and fall back to defaults on errors."""
    try:
        return load_settings()
    except ConfigError as error:
        sys.stderr.write(f"orm-lint: {error}; using default settings\n")
        return _in_force(Settings())
