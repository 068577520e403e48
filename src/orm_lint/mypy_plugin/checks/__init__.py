"""The type-aware checks, one module per ORM area; importing this package registers every module in it.

A new module needs no line anywhere else: each one found here is imported.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
