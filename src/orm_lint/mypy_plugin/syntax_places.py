"""Where the syntax engine reports a problem in the file mypy is checking.

A team that runs flake8 and mypy side by side must see one finding per place, as `orm-lint check`
shows once it has merged the two engines. Plain mypy cannot merge, so its plugin stays silent where
flake8's plugin reports the same problem on the same line (ORM102 and ORM110 on one relation load).
The syntax checks run once per file, and only for a file where the plugin has a finding to give.
A code flake8 leaves out (`[tool.orm-lint]` ignore, or `ignore`/`extend-ignore` in the project's
flake8 configuration) is reported nowhere by flake8, so mypy keeps its findings there.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
from functools import lru_cache

from ..catalogue import RULES, Engine, Rule
from ..config import Settings, rule_enabled
from ..files import read_source

# path -> (its mtime and size when read, the (line, problem) pairs the syntax engine reports there)
_PLACES: dict[str, tuple[tuple[int, int], frozenset[tuple[int, str]]]] = {}


def forget() -> None:
    """A new mypy run in the same process (an editor's in-process mypy): settings and files may have changed."""
    _PLACES.clear()
    flake8_selects.cache_clear()
    _flake8_options.cache_clear()
    _twins.cache_clear()


def reported_by_syntax_engine(path: str | None, line: int, problem: str, settings: Settings) -> bool:
    if not path or not any(
        rule.problem == problem and rule_enabled(rule.code, settings) for rule in _twins()
    ):  # a problem flake8 never reports (lazy-load-that-raises, ...): nothing to run
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    stamp = (stat.st_mtime_ns, stat.st_size)  # a daemon (dmypy) sees edits
    known = _PLACES.get(path)
    if known is None or known[0] != stamp:
        known = _PLACES[path] = (stamp, _syntax_places(path, settings))
    return (line, problem) in known[1]


def _syntax_places(path: str, settings: Settings) -> frozenset[tuple[int, str]]:
    # Imported on the first finding only: the syntax checks cost ~0.2 s to import, a warm mypy run ~0.3 s.
    from ..flake8_plugin.analysis import analyze

    try:
        with open(path, "rb") as handle:
            tree = ast.parse(read_source(handle.read()), filename=path)
        reports = analyze(tree, path, settings)
    except Exception:  # a file flake8 cannot read or analyse: flake8 reports nothing there either
        return frozenset()
    return frozenset(
        (getattr(r.node, "lineno", 0), r.rule.problem)
        for r in reports
        if rule_enabled(r.rule.code, settings) and flake8_selects(r.rule.code, os.getcwd())
    )


def twins_flake8_reports() -> list[str]:
    """The syntax rules sharing a problem with a type-aware rule that the project's flake8 configuration leaves on."""
    return [rule.code for rule in _twins()]


@lru_cache(maxsize=1)
def _twins() -> tuple[Rule, ...]:
    """Syntax rules that can report a problem a type-aware rule reports, and that flake8 runs here."""
    problems = {rule.problem for rule in RULES if rule.engine is Engine.MYPY}
    return tuple(
        rule
        for rule in RULES
        if rule.engine is Engine.FLAKE8 and rule.problem in problems and flake8_selects(rule.code, os.getcwd())
    )


# flake8 reads the first of these, from its working folder upward, that has a [flake8] section.
_FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
_FLAKE8_SECTIONS = ("flake8", "flake8:local-plugins")
_CODE_LIST = re.compile(r"[,\s]+")


@lru_cache(maxsize=64)
def flake8_selects(code: str, folder: str) -> bool:
    """Whether the project's flake8 configuration leaves `code` on: the longest matching prefix of
    select/extend-select against ignore/extend-ignore decides, as flake8 does (no select: all on)."""
    options = _flake8_options(folder)
    chosen = [p for key in ("select", "extend-select") for p in options.get(key, []) if code.startswith(p)]
    ignored = [p for key in ("ignore", "extend-ignore") for p in options.get(key, []) if code.startswith(p)]
    if options.get("select") and not chosen:
        return False
    return not ignored or max(map(len, chosen), default=0) >= max(map(len, ignored))


@lru_cache(maxsize=8)
def _flake8_options(folder: str) -> dict[str, list[str]]:
    path = os.path.abspath(folder)
    while True:
        for name in _FLAKE8_FILES:
            parser = configparser.RawConfigParser()
            try:
                parser.read(os.path.join(path, name), encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if any(parser.has_section(section) for section in _FLAKE8_SECTIONS):
                if not parser.has_section("flake8"):
                    return {}
                return {
                    key.replace("_", "-"): [c for line in value.splitlines() for c in _codes(line)]
                    for key, value in parser.items("flake8")
                    if key.replace("_", "-") in ("select", "extend-select", "ignore", "extend-ignore")
                }
        parent = os.path.dirname(path)
        if parent == path:
            return {}
        path = parent


def _codes(line: str) -> list[str]:
    return [c for c in _CODE_LIST.split(line.split("#", 1)[0].strip()) if c]
