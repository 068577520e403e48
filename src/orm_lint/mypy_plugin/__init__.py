"""orm-lint's mypy plugin: `plugins = ["orm_lint.mypy_plugin", "mypy_django_plugin.main"]`.

mypy fingerprints this module and its `__version__`; it is the package version, so any
upgrade of orm-lint invalidates mypy's cache.
"""

from __future__ import annotations

from mypy.plugin import Plugin as _Plugin

from .. import __version__
from .main import OrmLintPlugin

__all__ = ["OrmLintPlugin", "__version__", "plugin"]


def plugin(version: str) -> type[_Plugin]:
    return OrmLintPlugin
