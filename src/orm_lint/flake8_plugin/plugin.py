"""The flake8 entry point (`ORM`): adapts the syntax checks to flake8's plugin protocol."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from typing import Any

from .. import __version__
from ..config import load_settings_quietly
from ..migration_scope import reviewed_code
from ..tests_scope import left_out_as_test
from .analysis import analyze


class Plugin:
    """flake8 calls `run()` once per file with the tree it already parsed."""

    name = "orm-lint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "stdin", lines: list[str] | None = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines  # the source, for the project's own (ast-grep) rules

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if not isinstance(self.tree, ast.Module):
            return
        try:
            settings = load_settings_quietly()
            if left_out_as_test(self.filename, settings):
                return
            source = "".join(self.lines) if self.lines is not None and settings.user_rules else None
            reports = analyze(self.tree, self.filename, settings, source)
            reports = [r for r in reports if reviewed_code(r.rule.code, self.filename, settings, r.table_created_in)]
        except RecursionError:  # code nested hundreds deep: not a bug to report, and no reason to stop flake8
            sys.stderr.write(f"orm-lint: {self.filename} is nested too deeply to analyse; orm-lint skipped it\n")
            return
        except Exception as error:  # never break the user's flake8 run
            sys.stderr.write(
                f"orm-lint: internal error while checking {self.filename}: {error!r}; "
                "the file was skipped, please report this at the orm-lint issue tracker\n"
            )
            return
        for report in reports:
            node = report.node
            yield node.lineno, node.col_offset, report.message, type(self)  # type: ignore[attr-defined]
