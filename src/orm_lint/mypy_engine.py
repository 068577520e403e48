"""Running mypy with orm-lint's plugin for `orm-lint check`, on the project's own configuration.

The project's mypy configuration is copied to a temporary file with the plugin put first
in `plugins` (`$MYPY_CONFIG_FILE_DIR` expanded, so relative settings keep their meaning),
and mypy runs in a subprocess with a cache of its own. Only orm-lint's codes become
findings; mypy's other errors are counted, never reported as findings.
"""

from __future__ import annotations

import configparser
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import SETTINGS_FOLDER_VARIABLE
from .engines import FileProblem, display_path
from .frameworks import fullnames
from .report.findings import Finding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MYPY_CONFIG_FILES = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")
_TIMEOUT_SECONDS = 1800


@dataclass
class MypyResult:
    findings: list[Finding] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    other_errors: int = 0
    ran: bool = False


def mypy_available() -> bool:
    try:
        import mypy  # noqa: F401
    except ImportError:
        return False
    return True


def find_mypy_config(start: Path) -> Path | None:
    """mypy's own search: mypy.ini, .mypy.ini, pyproject.toml [tool.mypy], setup.cfg [mypy]."""
    for folder in [start, *start.parents]:
        for name in MYPY_CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "pyproject.toml":
                try:
                    if "mypy" not in tomllib.loads(candidate.read_text(encoding="utf-8")).get("tool", {}):
                        continue
                except (OSError, tomllib.TOMLDecodeError):
                    continue
            elif name == "setup.cfg":
                parser = configparser.ConfigParser()
                try:
                    parser.read(candidate, encoding="utf-8")
                except configparser.Error:
                    continue
                if not parser.has_section("mypy"):
                    continue
            return candidate
        if (folder / ".git").exists():
            break
    return None


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(_ini_value(v) for v in value)
    return str(value)


def _sections(config: Path | None) -> dict[str, dict[str, str]]:
    """The mypy configuration as ini sections, whatever file it came from."""
    if config is None:
        return {"mypy": {}}
    folder = str(config.parent.resolve())
    sections: dict[str, dict[str, str]] = {}
    if config.name == "pyproject.toml":
        tool = tomllib.loads(config.read_text(encoding="utf-8"))["tool"]
        data = tool["mypy"]
        sections["mypy"] = {
            k: _ini_value(v)
            for k, v in data.items()
            if not isinstance(v, (dict, list)) or (isinstance(v, list) and k != "overrides")
        }
        for override in data.get("overrides", []):
            modules = override.get("module", [])
            for module in [modules] if isinstance(modules, str) else modules:
                sections[f"mypy-{module}"] = {k: _ini_value(v) for k, v in override.items() if k != "module"}
        if isinstance(tool.get("django-stubs"), dict):  # django-stubs reads this section from an ini file
            sections["mypy.plugins.django-stubs"] = {k: _ini_value(v) for k, v in tool["django-stubs"].items()}
    else:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(config, encoding="utf-8")
        for name in parser.sections():
            if name == "mypy" or name.startswith(("mypy-", "mypy.")):
                sections[name] = dict(parser.items(name))
    for values in sections.values():
        for key, value in values.items():
            values[key] = value.replace("$MYPY_CONFIG_FILE_DIR", folder)
    sections.setdefault("mypy", {})
    return sections


def with_orm_lint_plugin(sections: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    main = sections["mypy"]
    plugins = [p.strip() for p in main.get("plugins", "").replace("\n", ",").split(",") if p.strip()]
    plugins = [p for p in plugins if not p.startswith(fullnames.ORM_LINT_PLUGIN)]
    main["plugins"] = ", ".join([fullnames.ORM_LINT_PLUGIN, *plugins])
    return sections


def cache_folder() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(Path.cwd().resolve()).encode()).hexdigest()[:16]
    return base / "orm-lint" / "mypy" / key


def run_mypy(
    paths: Sequence[str],
    exclude: Sequence[str],
    config_file: str | None,
    rule_codes: dict[str, str],
    unparseable: Sequence[str] = (),
) -> MypyResult:
    """Run mypy with the plugin; `rule_codes` maps mypy error codes to catalogue codes.

    Files the syntax engine could not parse are left out: mypy stops at a syntax error,
    and they are reported already.
    """
    result = MypyResult()
    config = Path(config_file) if config_file else find_mypy_config(Path.cwd())
    sections = with_orm_lint_plugin(_sections(config))
    sections["mypy"]["cache_dir"] = str(cache_folder())
    # Bodies of unannotated functions hold most real queries; mypy skips them unless asked.
    sections["mypy"]["check_untyped_defs"] = "True"
    sections["mypy"].pop("files", None)
    with tempfile.TemporaryDirectory(prefix="orm-lint-") as folder:
        ini = Path(folder) / "mypy.ini"
        parser = configparser.ConfigParser(interpolation=None)
        for name, values in sections.items():
            parser[name] = values
        with ini.open("w", encoding="utf-8") as handle:
            parser.write(handle)
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ini),
            "--output",
            "json",
            "--show-column-numbers",
            "--show-error-end",
            "--no-pretty",
            "--no-error-summary",
        ]
        for pattern in exclude:
            command += ["--exclude", fnmatch.translate(pattern).replace(r"\Z", "$")]
        for path in unparseable:
            command += ["--exclude", f"(^|/){re.escape(path)}$"]
        env = {**os.environ, "MYPY_FORCE_COLOR": "0", SETTINGS_FOLDER_VARIABLE: str(Path.cwd())}
        try:
            proc = subprocess.run([*command, *paths], capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, env=env)
        except (OSError, subprocess.TimeoutExpired) as error:
            result.problems.append(FileProblem(".", f"mypy could not run: {error}"))
            return result
    result.ran = True
    for line in proc.stdout.splitlines():
        try:
            error = json.loads(line)
        except json.JSONDecodeError:
            continue
        code = error.get("code")
        if error.get("severity") != "error" and code != "orm-internal":
            continue
        if code == "orm-internal":
            result.problems.append(FileProblem(display_path(Path(error["file"])), error["message"]))
        elif code in rule_codes:
            line_number = int(error["line"])
            column = int(error["column"]) + 1
            end_line = int(error.get("end_line") or line_number)
            end_column = int(error.get("end_column") or column - 1) + 1
            result.findings.append(
                Finding(
                    path=display_path(Path(error["file"])),
                    line=line_number,
                    column=column,
                    end_line=end_line,
                    end_column=max(end_column, column),
                    code=rule_codes[code],
                    message=error["message"],
                    engine="mypy",
                )
            )
        else:
            result.other_errors += 1
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:]) or proc.stdout.strip()[-500:]
        result.problems.append(FileProblem(".", f"mypy failed (exit {proc.returncode}): {tail}"))
    return result
