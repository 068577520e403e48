"""Reading an analysed file as the engines read it, and naming it as every output does."""

from __future__ import annotations

import os
from pathlib import Path

from .files import decode, text_lines
from .notebooks import NOTEBOOK_SUFFIX, NotebookError, NotebookSource, notebook_source


def display_path(path: Path) -> str:
    """Relative to the working folder, `/`-separated, as the JSON contract wants."""
    relative = os.path.relpath(os.path.abspath(path), os.getcwd())
    if relative.startswith(".."):
        return path.as_posix()
    return Path(relative).as_posix()


def read_source(path: Path, data: bytes | None = None) -> str:
    """The text flake8 reads from the file (`data`: its bytes, if read already)."""
    return decode(path.read_bytes() if data is None else data)[0]


def load_source(path: Path, data: bytes | None = None) -> tuple[str, NotebookSource | None]:
    """The Python text of a file; for a notebook, its code cells joined and their line map."""
    if path.suffix.lower() == NOTEBOOK_SUFFIX:
        notebook = notebook_source((path.read_bytes() if data is None else data).decode("utf-8-sig"))
        return notebook.text, notebook
    return read_source(path, data), None


def source_lines(path: str, cell: int | None = None) -> list[str]:
    """The lines a finding's `line` counts in: the file's, or one notebook cell's; [] if unreadable."""
    try:
        text, notebook = load_source(Path(path))
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError, NotebookError):
        return []
    if notebook is not None:
        return notebook.cells.get(cell or 0, [])
    return text_lines(text)
