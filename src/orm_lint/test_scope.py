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
from .project import project_root


def left_out_as_test(path: str | Path, settings: Settings) -> bool:
    """A test module the settings say not to check."""
    if settings.tests == TESTS_CHECK:
        return False
    try:
        root = str(project_root(path))
    except OSError:
        root = None
    return is_test_module(str(path), root)


def not_checked_note(count: int) -> str:
    """The sentence the text summary and the review give when test modules were left out."""
    noun = "test module was" if count == 1 else "test modules were"
    return f'{count} {noun} not checked; to check them, pass --tests check or set tests = "check" in [tool.orm-lint]'
