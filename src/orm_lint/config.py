"""Settings from `[tool.orm-lint]` in pyproject.toml or `[orm-lint]` in setup.cfg.

Unknown keys are warned about (a typo must not silently change nothing); a value of the
wrong type is an error that names the key and the file.
"""

from __future__ import annotations

import configparser
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A setting that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    endpoint_decorators: frozenset[str] = frozenset()
    jobs: int | None = None
    backend: str | None = None  # postgresql, mysql or sqlite: some migration rules depend on it
    tenant_column: str | None = None  # opt-in tenant isolation rule (ORM202)
    source: str | None = None  # the file the settings came from
    warnings: tuple[str, ...] = field(default=(), compare=False)


# key -> (kind, Settings attribute)
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("codes", "select"),
    "ignore": ("codes", "ignore"),
    "exclude": ("strings", "exclude"),
    "endpoint-decorators": ("names", "endpoint_decorators"),
    "jobs": ("int", "jobs"),
    "backend": ("backend", "backend"),
    "tenant-column": ("identifier", "tenant_column"),
}
BACKENDS = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "psql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}
KNOWN_KEYS = tuple(_KEYS)


def _as_list(value: Any, key: str, origin: str) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.replace("\n", ",").split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: `{key}` must be a list of strings, got {value!r}")
    return [v for v in value if v]


def _convert(raw: dict[str, Any], origin: str) -> Settings:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in raw.items():
        normalized = key.replace("_", "-")
        if normalized not in _KEYS:
            warnings.append(f"{origin}: unknown setting `{key}` ignored (known: {', '.join(KNOWN_KEYS)})")
            continue
        kind, attribute = _KEYS[normalized]
        if kind == "int":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{origin}: `{key}` must be a whole number, got {value!r}") from None
            if number < 1:
                raise ConfigError(f"{origin}: `{key}` must be at least 1, got {number}")
            values[attribute] = number
        elif kind == "codes":
            codes = [c.upper() for c in _as_list(value, key, origin)]
            bad = [c for c in codes if not c.startswith("ORM")]
            if bad:
                raise ConfigError(f"{origin}: `{key}` holds codes that are not orm-lint codes: {', '.join(bad)}")
            values[attribute] = tuple(codes)
        elif kind == "backend":
            backend = BACKENDS.get(str(value).strip().lower())
            if backend is None:
                raise ConfigError(f"{origin}: `{key}` must be one of postgresql, mysql, sqlite; got {value!r}")
            values[attribute] = backend
        elif kind == "identifier":
            if not isinstance(value, str) or not value.strip().isidentifier():
                raise ConfigError(f"{origin}: `{key}` must be a column name, got {value!r}")
            values[attribute] = value.strip()
        elif kind == "names":
            values[attribute] = frozenset(_as_list(value, key, origin))
        else:
            values[attribute] = tuple(_as_list(value, key, origin))
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


def load_settings(start: Path | None = None, also: Path | None = None) -> Settings:
    """Settings for a run started in `start` (default: the current folder).

    `also` is a configuration file named explicitly (mypy's `--config-file`): its
    `[orm-lint]` section, when it has one, wins over the search.
    """
    if also is not None and also.is_file() and also.suffix != ".toml":
        section = _from_setup_cfg(also)
        if section is not None:
            return _convert(section, str(also))
    found = find_config((start or Path.cwd()).resolve())
    if found is None:
        return Settings()
    path, section = found
    return _convert(section, str(path))


@lru_cache(maxsize=1)
def load_settings_quietly() -> Settings:
    """For the flake8 plugin: read once per process, and fall back to defaults on errors."""
    try:
        return load_settings()
    except ConfigError as error:
        sys.stderr.write(f"orm-lint: {error}; using default settings\n")
        return Settings()
