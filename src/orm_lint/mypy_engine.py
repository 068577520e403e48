"""Running mypy with orm-lint's plugin for `orm-lint check`, on the project's own configuration.

The project's mypy configuration is copied to a temporary file with the plugin put first
in `plugins` (`$MYPY_CONFIG_FILE_DIR` expanded, so relative settings keep their meaning),
and mypy runs in a subprocess with a cache of its own. Only orm-lint's codes become
findings; mypy's other errors are counted, never reported as findings.
"""

from __future__ import annotations

import configparser
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import LEFT_OUT_VARIABLE, SETTINGS_FOLDER_VARIABLE
from .sources import display_path
from .frameworks import fullnames
from .findings import DETAILS, DETAILS_NOTE, FileProblem, Finding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MYPY_CONFIG_FILES = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")
_TIMEOUT_SECONDS = 1800
_RETRIES = 4
_SKIP_HINT = "or pass --no-mypy"
_DEPENDENCIES_HINT = f"install the project's dependencies where orm-lint runs, {_SKIP_HINT}"
# An OSError about the cache folder (a file where a folder should be, no permission, a read-only disk).
_UNWRITABLE = ("PermissionError", "NotADirectoryError", "FileExistsError", "IsADirectoryError", "OSError")
# Frames and errors of mypy reading its cache back.
_CACHE_MARKERS = ("metastore", "sqlite3.", "cache_meta", "load_tree", "deserialize", "JSONDecodeError")
# The mypy plugin's notes on stderr (rules blinded by the project's mypy settings), passed on to the user.
_PLUGIN_NOTE = "orm-lint: note:"


@dataclass
class MypyResult:
    findings: list[Finding] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    other_errors: int = 0
    ran: bool = False
    failure: str | None = None  # why mypy did not finish, and what to do: one line for the user
    notes: list[str] = field(default_factory=list)  # what the user should know about a run that finished


class MypyFailure(Exception):
    """mypy stopped before checking the project; the message names the cause and the fix."""


class _DamagedCache(Exception):
    """mypy stopped on its own cache: clearing the cache and running again recovers."""


class _UnparseableImport(Exception):
    """mypy stopped at a syntax error in a module it followed but was not given."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors  # path -> where and what


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


def cache_folder(cache_dir: str | None = None) -> Path:
    """mypy's cache for this working folder: beside the results cache, so `cache-dir` moves both."""
    base = (
        Path(cache_dir) if cache_dir else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "orm-lint"
    )
    key = hashlib.sha256(str(Path.cwd().resolve()).encode()).hexdigest()[:16]
    return base / "mypy" / key


def module_name(path: Path) -> str:
    """The module mypy gives a file: its name, prefixed by every enclosing package (`__init__.py`)."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


@dataclass(frozen=True)
class MypyRequest:
    """What to check: orm-lint's own file list (never folders: a link to a parent folder would loop)."""

    files: Sequence[Path]
    config_file: str | None
    rule_codes: dict[str, str]  # mypy error code -> catalogue code
    unparseable: Sequence[Path] = ()  # the syntax engine could not parse them: mypy must not follow into them
    cache_dir: str | None = None
    shadow: tuple[Path, Path] | None = None  # (file as named, file holding its text): `-` with --stdin-filename


def run_mypy(request: MypyRequest) -> MypyResult:
    """Run mypy with the plugin; a run that stops is reported as `failure`, one line naming cause and fix.

    A damaged cache is cleared and the run retried once; a module mypy followed into and cannot
    parse is left out (follow_imports = skip) and the run retried.
    """
    cache = cache_folder(request.cache_dir)
    result = MypyResult()
    skipped = {module_name(path): display_path(path) for path in request.unparseable}
    cleared = False
    for _ in range(_RETRIES):
        try:
            proc = _run_once(request, skipped, cache)
            _read_findings(proc, request, result)
            return result
        except _DamagedCache as damage:
            if cleared:
                result.failure = (
                    f"mypy's cache in {cache} is damaged again after clearing it ({damage}); delete it, {_SKIP_HINT}"
                )
                return result
            shutil.rmtree(cache, ignore_errors=True)
            cleared = True
            result.notes.append(f"mypy's cache in {cache} was damaged ({damage}); orm-lint cleared it and retried")
        except _UnparseableImport as unparseable:
            for path, error in unparseable.errors.items():
                skipped[module_name(Path(path))] = path
                result.problems.append(FileProblem(path, f"mypy cannot parse the file ({error}); it was not checked"))
        except MypyFailure as failure:
            result.failure = str(failure)
            return result
    result.failure = f"mypy kept stopping at modules it cannot parse; exclude them, {_SKIP_HINT}"
    return result


def _config_text(request: MypyRequest, skipped: dict[str, str], cache: Path) -> str:
    config = Path(request.config_file) if request.config_file else find_mypy_config(Path.cwd())
    sections = with_orm_lint_plugin(_sections(config))
    sections["mypy"]["cache_dir"] = str(cache)
    # Bodies of unannotated functions hold most real queries; mypy skips them unless asked.
    sections["mypy"]["check_untyped_defs"] = "True"
    sections["mypy"].pop("files", None)
    for module in skipped:
        if module:
            sections.setdefault(f"mypy-{module}", {})["follow_imports"] = "skip"
    parser = configparser.ConfigParser(interpolation=None)
    for name, values in sections.items():
        parser[name] = values
    text = io.StringIO()
    parser.write(text)
    return text.getvalue()


def _run_once(request: MypyRequest, skipped: dict[str, str], cache: Path) -> subprocess.CompletedProcess[str]:
    left_out = set(skipped.values())
    files = [display_path(f) for f in request.files if display_path(f) not in left_out]
    with tempfile.TemporaryDirectory(prefix="orm-lint-") as folder:
        ini = Path(folder) / "mypy.ini"
        ini.write_text(_config_text(request, skipped, cache), encoding="utf-8")
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
            "--show-traceback",
            "--no-pretty",
            "--no-error-summary",
        ]
        if request.shadow is not None:
            command += ["--shadow-file", *map(str, request.shadow)]
        env = {
            **os.environ,
            "MYPY_FORCE_COLOR": "0",
            SETTINGS_FOLDER_VARIABLE: str(Path.cwd()),
            LEFT_OUT_VARIABLE: ",".join(skipped),
        }
        try:
            proc = subprocess.run(
                [*command, "--", *files], capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, env=env
            )
        except subprocess.TimeoutExpired:
            raise MypyFailure(
                f"mypy did not finish within {_TIMEOUT_SECONDS // 60} minutes; check fewer files, {_SKIP_HINT}"
            ) from None
        except OSError as error:
            raise MypyFailure(f"mypy could not start ({error}); reinstall it, {_SKIP_HINT}") from None
    if proc.returncode not in (0, 1) or "Traceback" in proc.stderr or "Traceback" in proc.stdout:
        _raise_failure(proc, cache, set(files))
    return proc


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    errors = []
    for line in stdout.splitlines():
        try:
            error = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(error, dict):
            errors.append(error)
    return errors


def _last_exception(output: str) -> str:
    """The exception line that ends a traceback (`ModuleNotFoundError: No module named 'x'`)."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith(("note:", " ", "{"))]
    return lines[-1].strip() if lines else ""


def _raise_failure(proc: subprocess.CompletedProcess[str], cache: Path, given: set[str]) -> None:
    """Turn a run that stopped into the exception that says why (cause and fix, one line)."""
    blocking = [
        e for e in _json_lines(proc.stdout) if e.get("severity") == "error" and e.get("code") in (None, "syntax")
    ]
    syntax: dict[str, str] = {}
    for error in blocking:
        if error.get("code") == "syntax":
            syntax.setdefault(display_path(Path(error["file"])), f"line {error.get('line')}: {error.get('message')}")
    if syntax and not set(syntax) & given:
        raise _UnparseableImport(syntax)
    if syntax:
        path, error = next(iter(syntax.items()))
        raise MypyFailure(f"mypy stopped at a syntax error in {path} ({error}); fix or exclude the file, {_SKIP_HINT}")
    for error in blocking:
        message = str(error.get("message", ""))
        if message.startswith("Duplicate module named"):
            raise MypyFailure(
                f"mypy stopped: {error.get('file')}: {message}; add `__init__.py` files, exclude one of them "
                f"or set mypy's explicit_package_bases, {_SKIP_HINT}"
            )
    # With `--output json`, mypy writes an internal error's traceback to stdout.
    traceback = f"{proc.stderr}\n{proc.stdout}"
    exception = _last_exception(traceback[traceback.find("Traceback") :] if "Traceback" in traceback else proc.stderr)
    if "Traceback" in traceback:
        if "mypy_django_plugin" in traceback or "django/apps" in traceback:
            raise MypyFailure(
                f"django-stubs could not import the project's Django settings or models ({exception}); "
                f"{_DEPENDENCIES_HINT}"
            )
        unwritable = exception.startswith(_UNWRITABLE) or "readonly database" in exception
        if unwritable or "unable to open database file" in exception:
            raise MypyFailure(
                f"mypy cannot write its cache in {cache} ({exception}); make that folder writable or set "
                f"`cache-dir` in [tool.orm-lint], {_SKIP_HINT}"
            )
        if any(marker in traceback for marker in _CACHE_MARKERS):
            raise _DamagedCache(exception)
        raise MypyFailure(
            f"mypy stopped with an internal error ({exception}); `mypy --show-traceback` shows where, {_SKIP_HINT}"
        )
    detail = next((str(e.get("message")) for e in blocking), None) or exception or proc.stdout.strip()[-300:]
    raise MypyFailure(f"mypy stopped (exit status {proc.returncode}): {detail}; fix its configuration, {_SKIP_HINT}")


def _details(hint: object) -> dict[str, str]:
    """What the plugin knew at the finding, from the note it attached (mypy's JSON calls notes `hint`)."""
    for line in str(hint or "").splitlines():
        if line.startswith(DETAILS_NOTE):
            try:
                known = json.loads(line.removeprefix(DETAILS_NOTE))
            except ValueError:
                return {}
            return (
                {k: v for k, v in known.items() if k in DETAILS and isinstance(v, str)}
                if isinstance(known, dict)
                else {}
            )
    return {}


def _read_findings(proc: subprocess.CompletedProcess[str], request: MypyRequest, result: MypyResult) -> None:
    result.ran = True
    shown_as = {}
    if request.shadow is not None:
        shown_as[display_path(request.shadow[1])] = display_path(request.shadow[0])
    for line in proc.stderr.splitlines():
        if line.startswith(_PLUGIN_NOTE):
            result.notes.append(line.removeprefix(_PLUGIN_NOTE).strip())
    for error in _json_lines(proc.stdout):
        code = error.get("code")
        if error.get("severity") != "error" and code != "orm-internal":
            continue
        path = display_path(Path(error["file"]))
        path = shown_as.get(path, path)
        if code == "orm-internal":
            result.problems.append(FileProblem(path, error["message"]))
        elif code in request.rule_codes:
            line_number = int(error["line"])
            column = int(error["column"]) + 1
            end_line = int(error.get("end_line") or line_number)
            end_column = int(error.get("end_column") or column - 1) + 1
            result.findings.append(
                Finding(
                    path=path,
                    line=line_number,
                    column=column,
                    end_line=end_line,
                    end_column=max(end_column, column),
                    code=request.rule_codes[code],
                    message=error["message"],
                    engine="mypy",
                    **_details(error.get("hint")),
                )
            )
        else:
            result.other_errors += 1
