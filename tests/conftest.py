"""Shared helpers: run the real tools (flake8, orm-lint) as a user would."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_folder() -> Path:
    """`../shared` beside the checkout (the workplace layout), or where ORM_LINT_SHARED points."""
    for candidate in (
        os.environ.get("ORM_LINT_SHARED"),
        ROOT.parent / "shared",
        "/work/shared",
    ):
        if candidate and (Path(candidate) / "acceptance").is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared_folder()
MARKER = re.compile(r"# error: (ORM\d{3})")
# `# error: ORM201 high`: the finding's expected severity, when the site sets it.
SEVERITY_MARKER = re.compile(r"# error: (ORM\d{3}) (critical|high|medium|low)\b")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
# A mypy configuration section for a project that runs mypy without flake8: with the syntax twin of
# lazy-load-per-item off, the plugin leaves no relation load to flake8 (docs/mypy.md).
MYPY_ALONE = "[orm-lint]\nignore = ORM102\n"
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>ORM\d{3}) (?P<message>.*)$")


def run_flake8(*paths: Path | str, cwd: Path | None = None) -> list[dict[str, object]]:
    """`flake8 --select ORM` in a subprocess; returns the parsed findings."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flake8",
            "--isolated",
            "--select",
            "ORM",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    found = []
    for line in proc.stdout.splitlines():
        match = FLAKE8_LINE.match(line)
        assert match, f"unexpected flake8 output: {line!r}"
        found.append({**match.groupdict(), "line": int(match["line"]), "col": int(match["col"])})
    return found


def git(folder: Path, *args: str) -> str:
    """Run real git in `folder` with a fixed identity; returns its output."""
    proc = subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=True
    )
    return proc.stdout


def run_orm_lint(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orm_lint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def run_on_terminal(*args: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], str]:
    """`orm-lint ARGS` with stderr on a pseudo-terminal, as in a user's shell; (the run, what stderr showed)."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "orm_lint", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=600,
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # Linux: the terminal is closed once the child has gone
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    return proc, b"".join(chunks).decode()


def check_json(*args: str, cwd: Path | None = None, mypy: bool = False) -> dict[str, object]:
    """`orm-lint check --format json`; the syntax engine only unless `mypy=True`."""
    proc = run_orm_lint("check", "--format", "json", *args, *([] if mypy else ["--no-mypy"]), cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def expected_markers(folder: Path) -> set[tuple[str, int, str]]:
    """Every `# error: ORM###` marker under a folder, as (relative path, line, code)."""
    markers = set()
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for code in MARKER.findall(line):
                markers.add((path.relative_to(folder).as_posix(), number, code))
    return markers


def expected_severities(folder: Path) -> dict[tuple[str, int, str], str]:
    """Every `# error: ORM### severity` marker under a folder: (relative path, line, code) -> severity."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for code, severity in SEVERITY_MARKER.findall(line):
                found[(path.relative_to(folder).as_posix(), number, code)] = severity
    return found


@pytest.fixture
def write_module(tmp_path: Path):
    """Write source text to a file in a temporary folder and return its path."""

    def write(source: str, name: str = "example.py") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        return path

    return write
