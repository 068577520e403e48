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
    """Write every example pair's bad or good side into its own folder (`ORM101-2`: the rule's second pair)
    and run flake8 once over all of them."""
    folders = []
    for rule in FLAKE8_RULES:
        for number, example in enumerate(rule.examples, 1):
            folders.append(f"{rule.code}-{number}")
            path = tmp_path / folders[-1] / rule.example_filename
            path.parent.mkdir(parents=True)
            path.write_text(getattr(example, which), encoding="utf-8")
    by_folder: dict[str, list[dict[str, object]]] = {folder: [] for folder in folders}
    for finding in run_flake8(".", cwd=tmp_path):
        by_folder[Path(str(finding["path"]).removeprefix("./")).parts[0]].append(finding)
    return by_folder


def test_bad_examples_produce_exactly_their_finding(tmp_path: Path) -> None:
    for folder, findings in _lint_examples(tmp_path, "bad").items():
        assert [f["code"] for f in findings] == [folder.split("-")[0]], f"{folder}'s bad example"


def test_good_examples_produce_nothing(tmp_path: Path) -> None:
    for folder, findings in _lint_examples(tmp_path, "good").items():
        assert findings == [], f"{folder}'s good example"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_message_ends_with_its_fix(rule) -> None:
    """The report reads the fix from the template's last clause, filled with the finding's values."""
    assert rule.fix_template and "; " not in rule.fix_template


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
