#!/usr/bin/env python3
"""Developer entry point: `python3 dev.py demo` and `python3 dev.py test`.

Each command creates `.venv` when it is missing, installs orm-lint with what the
command needs, and runs it. Only a Python 3.10+ interpreter is required.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*args: str | Path, check: bool = True, cwd: Path = ROOT) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    # Tools started by the tests (mypy, flake8, pylsp, pre-commit) come from the venv too.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(VENV)}
    return subprocess.run([str(a) for a in args], cwd=cwd, check=check, env=env).returncode


def setup(extra: str) -> None:
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extra}]" if extra else ".")


def demo() -> int:
    """Set up and run orm-lint (both engines) on the bundled example projects; findings are expected."""
    setup("examples")
    status = run(BIN / "orm-lint", "check", ".", check=False, cwd=ROOT / "examples")
    return 0 if status in (0, 1) else status


def test() -> int:
    """Set up and run the full test suite."""
    setup("test")
    return run(PYTHON, "-m", "pytest", "-n", "auto", "-q", check=False)


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}}")
    sys.exit(COMMANDS[sys.argv[1]]())
