"""Whether test modules are checked: by default they are not (`tests = "skip"`).

Test code runs against a throwaway database, with data the test wrote and no user input: a query
per item of a fixture list, SQL built from a test's constants or a table without an index there
costs nothing in production. Checking it only slows the run (on large projects, tests are often
half the code), so both entry points leave test modules out unless `tests = "check"`, and
`orm-lint check` says how many it left out. The judgment reads the path inside the project.
"""

from __future__ import annotations

from pathlib import Path

from .config import TESTS_CHECK, Settings
from .paths import is_test_module
from .project import marked_root


def is_test_path(path: str | Path) -> bool:
    """A test module, judged on the path inside its project when a marker (`pyproject.toml`, `.git`, ...) shows
    where the project starts: a checkout kept under `/home/me/tests/` is not all tests. The one judgment every
    gate uses (which files are checked, which checks run on a file, the mypy plugin's)."""
    try:
        root = marked_root(path)
    except (OSError, ValueError):
        root = None
    return is_test_module(str(path), str(root) if root is not None else None)


def left_out_as_test(path: str | Path, settings: Settings) -> bool:
    """A test module the settings say not to check."""
    return settings.tests != TESTS_CHECK and is_test_path(path)


def not_checked_note(count: int) -> str:
    """The sentence the text summary and the review give when test modules were left out."""
    noun = "test module was" if count == 1 else "test modules were"
    return f'{count} {noun} not checked; to check them, pass --tests check or set tests = "check" in [tool.orm-lint]'
