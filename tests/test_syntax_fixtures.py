"""The fixture files say, line by line, what must be reported: `# error: ORM###`.

Every other line (the clean look-alikes next to each bad pattern) must stay silent.
"""

from __future__ import annotations

from conftest import (
    FIXTURES,
    check_json,
    expected_markers,
    expected_severities,
    run_flake8,
)

SYNTAX = FIXTURES / "syntax"


def test_flake8_reports_exactly_the_marked_lines() -> None:
    found = run_flake8(".", cwd=SYNTAX)
    reported = {(str(f["path"]).removeprefix("./"), f["line"], f["code"]) for f in found}
    expected = expected_markers(SYNTAX)
    assert sorted(reported - expected) == [], "reported on a line without a marker"
    assert sorted(expected - reported) == [], "marker without a report"


def test_one_report_per_place() -> None:
    found = run_flake8(".", cwd=SYNTAX)
    places = [(f["path"], f["line"], f["col"], f["code"]) for f in found]
    assert len(places) == len(set(places))


def test_messages_name_the_fix() -> None:
    found = {(str(f["path"]).removeprefix("./"), f["line"]): str(f["message"]) for f in run_flake8(".", cwd=SYNTAX)}
    assert found[("relations.py", 13)] == (
        "book.author loads a related object once per item of Book.objects.order_by(...); "
        'add select_related("author") to the query'
    )
    assert "joinedload(Order.customer)" in found[("relations_sqlalchemy.py", 44)]
    assert "selectinload(Order.lines)" in found[("relations_sqlalchemy.py", 45)]
    assert "bound parameter" in found[("raw_sql.py", 15)] and "term" in found[("raw_sql.py", 15)]
    assert "add_all()" in found[("query_in_loop.py", 45)]
    # advice in the call's own framework: no Django API for SQLAlchemy code, and the reverse
    sqlalchemy_advice = found[("query_in_loop.py", 203)]
    assert "in_(" in sqlalchemy_advice and "__in" not in sqlalchemy_advice and "bulk_" not in sqlalchemy_advice
    django_advice = [m for (path, _), m in found.items() if path == "query_in_loop.py" and "objects" in m]
    assert django_advice and not any("select(" in m or "in_(" in m for m in django_advice)
    assert "payload" in found[("query_in_loop.py", 154)]
    assert "try/except" in found[("query_in_loop.py", 167)]


def test_columns_point_at_the_expression() -> None:
    found = {(str(f["path"]).removeprefix("./"), f["line"]): f["col"] for f in run_flake8(".", cwd=SYNTAX)}
    # `book.author` starts at column 22 of `        lines.append(book.author.full_name)`
    assert found[("relations.py", 13)] == 22


def test_severity_follows_what_the_site_shows() -> None:
    """`# error: ORM201 critical`: request data is critical, a caller's value high, a database value medium."""
    expected = expected_severities(SYNTAX)
    assert expected, "the fixtures state some severities"
    found = check_json(".", "--no-cache", cwd=SYNTAX)["findings"]
    severities = {(f["path"], f["line"], f["code"]): f["severity"] for f in found}  # type: ignore[index]
    assert {place: severities.get(place) for place in expected} == expected
