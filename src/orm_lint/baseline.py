"""Baselines: record today's findings so that CI reports only new ones.

A fingerprint is the rule, the path and the text of the finding's line with its
whitespace normalised, never the line number: lines inserted or removed above a finding
leave it unchanged, and so does re-indenting it. Identical lines in one file share a
fingerprint; the baseline keeps how many there were, so a new copy is still reported.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import __version__
from .sources import source_lines
from .findings import Finding

BASELINE_VERSION = 1
DEFAULT_BASELINE = "orm-lint-baseline.json"


class BaselineError(Exception):
    """A baseline file that cannot be used; the message names the file."""


def _normalized(text: str) -> str:
    return " ".join(text.split())


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in order; each file is read once."""
    cache: dict[tuple[str, int | None], list[str]] = {}
    result = []
    for finding in findings:
        key = (finding.path, finding.cell)
        if key not in cache:
            cache[key] = source_lines(finding.path, finding.cell)
        lines = cache[key]
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else finding.message
        digest = hashlib.sha256("\0".join((finding.code, finding.path, _normalized(text))).encode("utf-8"))
        result.append(digest.hexdigest()[:20])
    return result


def baseline_document(findings: Sequence[Finding]) -> str:
    counts: Counter[str] = Counter()
    first: dict[str, Finding] = {}
    for finding, fingerprint in zip(findings, fingerprints(findings)):
        counts[fingerprint] += 1
        first.setdefault(fingerprint, finding)
    entries = [
        {
            "fingerprint": fingerprint,
            "code": first[fingerprint].code,
            "path": first[fingerprint].path,
            "count": count,
            "message": first[fingerprint].message,  # for people reading the file; not compared
        }
        for fingerprint, count in sorted(counts.items(), key=lambda item: first[item[0]].sort_key)
    ]
    data = {
        "version": BASELINE_VERSION,
        "tool": {"name": "orm-lint", "version": __version__},
        "note": "Findings accepted when orm-lint was adopted; `orm-lint check --baseline FILE` hides them.",
        "findings": entries,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> Counter[str]:
    """Fingerprint -> how many findings it hides."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: not a baseline written by `orm-lint baseline` ({error})") from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or data.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{path}: not a baseline written by `orm-lint baseline` (version {BASELINE_VERSION})")
    budget: Counter[str] = Counter()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{path}: every entry needs a `fingerprint`")
        count = entry.get("count", 1)
        budget[entry["fingerprint"]] += count if isinstance(count, int) and count > 0 else 1
    return budget


def new_findings(findings: Iterable[Finding], budget: Counter[str]) -> list[Finding]:
    """The findings the baseline does not account for."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    remaining = Counter(budget)
    fresh = []
    for finding, fingerprint in zip(ordered, fingerprints(ordered)):
        if remaining[fingerprint] > 0:
            remaining[fingerprint] -= 1
        else:
            fresh.append(finding)
    return fresh
