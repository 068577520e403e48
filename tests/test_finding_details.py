"""Findings carry what the check knew as fields (model, attribute, operation, fix, function), not only as text.

Each rule's documented bad example is checked through the real CLI; its JSON finding must name the model,
the column or relation, and the ORM call at fault, so JSON, SARIF and the review read structure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import check_json
from orm_lint.catalogue import RULES_BY_CODE

# code -> the fields its bad example's finding carries
EXPECTED = {
    "ORM104": {"model": "Loan", "operation": "len"},
    "ORM106": {"model": "Loan", "operation": "count"},
    "ORM107": {"model": "Book", "operation": "list"},
    "ORM502": {"model": "Order", "attribute": "status", "operation": "where"},
    "ORM301": {"model": "Order", "attribute": "customer_id"},
    "ORM505": {"model": "Order", "operation": "update"},
    "ORM201": {"operation": "execute"},
}


@pytest.fixture(scope="module")
def bad_examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder: Path = tmp_path_factory.mktemp("details")
    for code in [*EXPECTED, "ORM111"]:
        (folder / f"bad_{code}.py").write_text(RULES_BY_CODE[code].bad_example, encoding="utf-8")
    findings = check_json(*(f"bad_{code}.py" for code in EXPECTED), cwd=folder)["findings"]
    found = {f["path"].removeprefix("bad_").removesuffix(".py"): f for f in findings}  # type: ignore[union-attr]
    typed = check_json("bad_ORM111.py", cwd=folder, mypy=True)["findings"]
    found.update({f["code"]: f for f in typed})  # type: ignore[union-attr,index]
    return found


@pytest.mark.parametrize("code", EXPECTED)
def test_syntax_findings_carry_model_attribute_and_operation(code: str, bad_examples: dict) -> None:
    finding = bad_examples[code]
    assert finding["code"] == code
    assert {field: finding.get(field) for field in EXPECTED[code]} == EXPECTED[code]
    assert finding["function"] is not None or code == "ORM301"  # a model declaration is in no function


def test_a_type_aware_finding_carries_what_the_plugin_knew(bad_examples: dict) -> None:
    """The mypy plugin's details reach the JSON through the CLI (plain mypy shows only the message)."""
    finding = bad_examples["ORM111"]
    assert finding["engine"] == "mypy"
    assert {k: finding.get(k) for k in ("framework", "function", "model", "attribute")} == {
        "framework": "sqlalchemy",
        "function": "teasers",
        "model": "Article",
        "attribute": "body",
    }
    assert finding["fix"] and finding["message"].endswith(finding["fix"])
