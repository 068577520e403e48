"""Meta-tests: the catalogue stays honest, and every rule's examples are executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_flake8
from orm_lint.catalogue import (
    CATEGORY_BLOCKS,
    CODE_PATTERN,
    NAME_PATTERN,
    PROBLEMS,
    RULES,
    Engine,
    find_rule,
)
from orm_lint.rule_docs import stale_docs

FLAKE8_RULES = [r for r in RULES if r.engine is Engine.FLAKE8]


def test_codes_and_names_are_unique() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_complete(rule) -> None:
    assert CODE_PATTERN.match(rule.code)
    assert NAME_PATTERN.match(rule.name), "names are kebab-case and describe the bad pattern"
    block = CATEGORY_BLOCKS[rule.category]
    assert block <= int(rule.code[3:]) < block + 100, "the code sits in its category's hundred"
    assert rule.problem in PROBLEMS
    assert rule.frameworks
    assert rule.summary.endswith(".")
    assert rule.message[0].islower() or rule.message.startswith(("{", "SQL")), "messages start lowercase"
    assert not rule.message.endswith(".")
    docs = rule.docs
    assert docs.what_it_does and docs.why_bad and docs.how_to_test and docs.fix_steps
    assert rule.bad_example.strip() and rule.good_example.strip()
    assert rule.bad_example != rule.good_example


def test_rules_are_found_by_code_or_name() -> None:
    assert find_rule("orm101") is find_rule("query-in-loop") is RULES[0]
    assert find_rule("ORM999") is None


def _lint_examples(tmp_path: Path, which: str) -> dict[str, list[dict[str, object]]]:
    """Write every rule's example into its own folder and run flake8 once over all of them."""
    for rule in FLAKE8_RULES:
        path = tmp_path / rule.code / rule.example_filename
        path.parent.mkdir(parents=True)
        path.write_text(getattr(rule, which), encoding="utf-8")
    by_rule: dict[str, list[dict[str, object]]] = {r.code: [] for r in FLAKE8_RULES}
    for finding in run_flake8(".", cwd=tmp_path):
        by_rule[Path(str(finding["path"]).removeprefix("./")).parts[0]].append(finding)
    return by_rule


def test_bad_examples_produce_exactly_their_finding(tmp_path: Path) -> None:
    for code, findings in _lint_examples(tmp_path, "bad_example").items():
        assert [f["code"] for f in findings] == [code], f"{code}'s bad example"


def test_good_examples_produce_nothing(tmp_path: Path) -> None:
    for code, findings in _lint_examples(tmp_path, "good_example").items():
        assert findings == [], f"{code}'s good example"


def test_generated_docs_are_up_to_date() -> None:
    stale = stale_docs(ROOT / "docs")
    assert stale == [], f"run `orm-lint docs` to regenerate: {stale}"


def test_the_repository_passes_its_own_flake8() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "src", "tests", "dev.py"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout
