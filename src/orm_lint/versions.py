"""`orm-lint --version`: orm-lint and the tools and frameworks next to it, for bug reports.

Versions come from the installed distributions' metadata: nothing here imports a
framework (importing Django or SQLAlchemy costs time and may fail without settings).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from typing import Any

from . import __version__

TOOLS = ("flake8", "mypy")
FRAMEWORKS = ("django", "django-stubs", "sqlalchemy", "sqlmodel", "flask-sqlalchemy")
NOT_INSTALLED = "not installed"


def installed_version(distribution: str) -> str | None:
    from importlib import metadata  # not at import time: every `orm-lint` command would pay for it

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def version_report() -> str:
    """One line per package: orm-lint first, then the engines, then the frameworks."""
    lines = [f"orm-lint {__version__} (Python {platform.python_version()})"]
    for name in (*TOOLS, *FRAMEWORKS):
        lines.append(f"  {name:<17} {installed_version(name) or NOT_INSTALLED}")
    return "\n".join(lines)


class VersionAction(argparse.Action):
    """Like argparse's `version` action, but multi-line and computed only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the versions of orm-lint, flake8, mypy and the ORM frameworks, and exit")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        try:
            print(version_report(), flush=True)
        except BrokenPipeError:  # `orm-lint --version | head -1`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit()
