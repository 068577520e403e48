"""Jupyter notebooks as Python source: code cells joined, with a map back to cell and line.

Cells are numbered by their position in the notebook (1-based, markdown cells counted),
as an editor shows them. IPython syntax is not Python: line magics (`%time`), shell lines
(`!pip ...`, `files = !ls`), help lines (`obj?`) that start a statement (not inside
brackets or a string, as IPython reads them) become `pass` at the same indentation,
and cells run by a cell magic (`%%sql`, `%%bash`) are left out, except the magics whose
body is Python (`%%time`, `%%timeit`, `%%capture`). Line numbers therefore never shift.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, field

NOTEBOOK_SUFFIX = ".ipynb"
# Cell magics whose body is Python that runs as usual.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture"})
_MAGIC_LINE = re.compile(r"^(?P<indent>\s*)(?:[%!]|[\w.\[\]'\", ]+\s*=\s*[%!])")
_HELP_LINE = re.compile(r"^(?P<indent>\s*)(?:\?\??\s*[\w.]+|[\w.]+\s*\?\??)\s*$")


class NotebookError(ValueError):
    """A notebook that cannot be read as one: the message says why, in one line."""


@dataclass
class NotebookSource:
    """The Python text of a notebook's code cells and where each of its lines came from."""

    text: str
    # line of `text` (1-based) -> (cell number, line within the cell); index 0 unused
    origins: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])
    cells: dict[int, list[str]] = field(default_factory=dict)  # cell number -> its original lines

    def origin(self, line: int) -> tuple[int, int]:
        """(cell, line within the cell) of a line of the joined text."""
        if 0 < line < len(self.origins):
            return self.origins[line]
        return self.origins[-1] if len(self.origins) > 1 else (1, max(line, 1))


def _python_notebook(data: dict[str, object]) -> bool:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key in ("language_info", "kernelspec"):
        info = metadata.get(key)
        if isinstance(info, dict):
            language = info.get("name" if key == "language_info" else "language")
            if isinstance(language, str) and language:
                return language.lower().startswith("python")
    return True


def _cell_lines(cell: dict[str, object]) -> list[str]:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(part) for part in source)
    if not isinstance(source, str):
        return []
    return source.splitlines()


def _python_lines(lines: list[str]) -> list[str]:
    """The cell's lines with IPython-only syntax replaced, one output line per input line."""
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            return ["" for _ in lines]
        lines = ["", *lines[1:]]
    result: list[str] = []
    for line in lines:
        match = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
        if match and not _inside_statement(result):
            line = f"{match['indent']}pass"
        result.append(line)
    return result


def _inside_statement(lines: list[str]) -> bool:
    """Whether the next line continues a statement or a string (`% args` after an open bracket is Python)."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(f"{line}\n" for line in lines)).readline):
            pass
    except tokenize.TokenError:
        return True
    except SyntaxError:
        return False
    return False


def notebook_source(raw: str) -> NotebookSource:
    """The notebook's code cells as one Python text; raises NotebookError for a broken notebook."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a Jupyter notebook: no `cells` list")
    result = NotebookSource(text="")
    if not _python_notebook(data):
        return result
    parts: list[str] = []
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        lines = _cell_lines(cell)
        result.cells[number] = lines
        for offset, line in enumerate(_python_lines(lines), 1):
            parts.append(line)
            result.origins.append((number, offset))
    result.text = "".join(f"{line}\n" for line in parts)
    return result
