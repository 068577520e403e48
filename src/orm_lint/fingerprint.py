"""What identifies this build of orm-lint, for every cache that stores its results.

The version alone is not enough: an edited checkout (or an editable install) keeps its
version number, and a cache keyed on it would hand back results of code that no longer
exists. Both the mypy plugin (through `report_config_data`) and the syntax engine's
results cache key on this fingerprint.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from . import __version__


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of orm-lint's version and of every one of its own source files."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
