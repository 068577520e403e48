"""What a file is, from its path alone: shared by both engines without importing either."""

from __future__ import annotations


def is_test_module(filename: str) -> bool:
    """pytest/unittest naming: `tests/`, `test_*.py`, `*_test.py`, `*_tests.py`, `conftest.py`, Django's `tests.py`."""
    normalized = filename.replace("\\", "/")
    name = normalized.rsplit("/", 1)[-1]
    return (
        "/tests/" in f"/{normalized}"
        or "/test/" in f"/{normalized}"
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name in {"conftest.py", "tests.py"}
    )
