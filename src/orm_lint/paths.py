"""What a file is, from its path alone: shared by both engines without importing either."""

from __future__ import annotations

import os


def is_test_module(filename: str, root: str | None = None) -> bool:
    """pytest/unittest naming: `tests/`, `test/`, `test_*.py`, `*_test.py`, `*_tests.py`, `conftest.py`, `tests.py`.

    With the project's `root`, only the path inside the project is read: a checkout kept under
    `/home/me/tests/` is not all tests.
    """
    normalized = filename.replace("\\", "/")
    if root is not None:
        absolute, within = os.path.abspath(filename), os.path.join(root, "")
        if absolute.startswith(within):
            normalized = absolute[len(within) :].replace("\\", "/")
    name = normalized.rsplit("/", 1)[-1]
    return (
        "/tests/" in f"/{normalized}"
        or "/test/" in f"/{normalized}"
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name in {"conftest.py", "tests.py"}
    )
