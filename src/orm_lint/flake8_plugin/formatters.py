"""flake8 formatter plugins (`flake8.report`): `flake8 --format=orm-sarif` and `--format=orm-github`.

They write every code flake8 reports, orm-lint's with the catalogue's rules and levels,
other plugins' with a minimal rule and the `warning` level.
"""

from __future__ import annotations

from pathlib import Path

from flake8.formatting.base import BaseFormatter
from flake8.violation import Violation

from ..sources import display_path
from ..findings import Finding

# flake8 imports every installed formatter on every run: the report modules are imported only when one is used.


def _finding(error: Violation) -> Finding:
    column = max(1, error.column_number)
    return Finding(
        path=display_path(Path(error.filename)),
        line=error.line_number,
        column=column,
        end_line=error.line_number,
        end_column=column,
        code=error.code,
        message=error.text,
        engine="flake8",
    )


class SarifFormatter(BaseFormatter):
    """Collects every violation and writes one SARIF 2.1.0 log when flake8 stops."""

    def after_init(self) -> None:
        self.findings: list[Finding] = []

    def handle(self, error: Violation) -> None:
        self.findings.append(_finding(error))

    def format(self, error: Violation) -> str | None:
        return None

    def show_statistics(self, statistics: object) -> None:
        """Statistics would break the JSON document: left out."""

    def show_benchmarks(self, benchmarks: object) -> None:
        """Benchmarks would break the JSON document: left out."""

    def stop(self) -> None:
        from ..baseline import fingerprints
        from ..report.sarif import render_sarif

        findings = sorted(self.findings, key=lambda f: f.sort_key)
        self._write(render_sarif(findings, fingerprints=fingerprints(findings)))
        super().stop()


class GithubFormatter(BaseFormatter):
    """One GitHub workflow annotation (`::error file=...,line=...::message`) per violation."""

    def format(self, error: Violation) -> str | None:
        from ..report.sarif import github_annotation

        return github_annotation(_finding(error))

    def show_source(self, error: Violation) -> str | None:
        return ""
