"""Where a function called in one module is defined in another module of the project.

`from app.services import visible_posts; visible_posts(user)` and `from app import services;
services.visible_posts(user)` both name `visible_posts` in `<root>/app/services.py` (or
`<root>/src/app/services.py`, or a package's `__init__.py`). The module is found from the
caller's imports and the project root alone, never by importing anything; a name that leads
outside the project (a library, a module that is not there) is unknown, and unknown stays silent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .index import absolute_name

_SOURCE_FOLDERS = ("", "src")


@dataclass(frozen=True)
class ProjectFunction:
    """A module-level function of the project: the file that defines it and its name there."""

    path: str
    module: str  # dotted, as the caller imported it
    name: str


def imported_function(root: str, near: str, imports: dict[str, str], dotted: str) -> ProjectFunction | None:
    """The project function that `dotted` (`visible_posts`, `services.visible_posts`) names in the module `near`,
    whose imports are `imports` (local name -> imported dotted name, `.services` when relative)."""
    if not root or not dotted:
        return None
    head, _, rest = dotted.partition(".")
    imported = imports.get(head)
    if imported is None:
        return None
    if imported.startswith(head + ".") and rest:
        imported = head  # `import app.services` binds `app`: `app.services.f` is read from `app`
    full = absolute_name(imported, near)
    if rest:
        full = f"{full}.{rest}"
    module, _, name = full.rpartition(".")
    if not module or not name or name.startswith("__"):
        return None
    path = module_path(root, module)
    return ProjectFunction(path, module, name) if path is not None else None


def module_path(root: str, module: str) -> str | None:
    """`<root>/app/services.py` (or the package `<root>/app/services/__init__.py`) for `app.services`."""
    relative = module.replace(".", os.sep)
    for folder in _SOURCE_FOLDERS:
        base = os.path.join(root, folder, relative)
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    return None
