"""Correctness rules (ORM5xx): Python operators that silently produce the wrong SQL."""

from __future__ import annotations

from .model import SQLALCHEMY_FAMILY, Category, Docs, Engine, Rule, Severity

_HOW_TO_TEST = (
    "Print the compiled statement (`str(stmt)`) and assert the WHERE clause holds the "
    "condition you meant; add a test row that must be excluded by it."
)
_REFERENCES = ("https://docs.sqlalchemy.org/en/20/core/operators.html",)

IDENTITY_TEST_IN_FILTER = Rule(
    code="ORM501",
    name="identity-test-in-filter",
    problem="sql_semantics",
    category=Category.CORRECTNESS,
    severity=Severity.HIGH,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="`Model.col is None` in a filter is a Python test, always False, never SQL.",
    message="{expr} is evaluated by Python, not SQL; use {fix}",
    docs=Docs(
        what_it_does="Reports `is` / `is not` against a mapped column inside `where()`, `filter()`, `having()`, `and_()`, `or_()`.",
        why_bad=(
            "`is` cannot be overloaded: `Model.col is None` is `False` before SQLAlchemy "
            "sees it, so the filter becomes `WHERE false` (no rows) or `WHERE true` "
            "(every row) without any error."
        ),
        fix_steps=("Write `Model.col.is_(None)` / `Model.col.is_not(None)`, or `== None` with a noqa for E711.",),
        how_to_test=_HOW_TO_TEST,
        references=_REFERENCES,
    ),
    bad_example="""\
from sqlalchemy import select

from shop.models import Order


def unshipped():
    return select(Order).where(Order.shipped_at is None)
""",
    good_example="""\
from sqlalchemy import select

from shop.models import Order


def unshipped():
    return select(Order).where(Order.shipped_at.is_(None))
""",
)

MEMBERSHIP_TEST_IN_FILTER = Rule(
    code="ORM502",
    name="membership-test-in-filter",
    problem="sql_semantics",
    category=Category.CORRECTNESS,
    severity=Severity.HIGH,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="`x in Model.col` in a filter is evaluated by Python, not turned into `IN`.",
    message="{expr} is evaluated by Python, not SQL; use {fix}",
    docs=Docs(
        what_it_does="Reports `in` / `not in` with a mapped column inside `where()`, `filter()`, `having()`, `and_()`, `or_()`.",
        why_bad=(
            "`in` asks the Python object, so the filter gets a constant or raises at run "
            "time instead of becoming `col IN (...)`."
        ),
        fix_steps=("Write `Model.col.in_(values)` / `Model.col.not_in(values)`.",),
        how_to_test=_HOW_TO_TEST,
        references=_REFERENCES,
    ),
    bad_example="""\
from sqlalchemy import select

from shop.models import Order


def with_status(statuses):
    return select(Order).where(statuses in Order.status)
""",
    good_example="""\
from sqlalchemy import select

from shop.models import Order


def with_status(statuses):
    return select(Order).where(Order.status.in_(statuses))
""",
)

NOT_OPERATOR_IN_FILTER = Rule(
    code="ORM503",
    name="not-operator-in-filter",
    problem="sql_semantics",
    category=Category.CORRECTNESS,
    severity=Severity.HIGH,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="`not Model.flag` in a filter is Python's `not`, always False.",
    message="{expr} is evaluated by Python, not SQL; use {fix}",
    docs=Docs(
        what_it_does="Reports `not` applied to a mapped column inside `where()`, `filter()`, `having()`, `and_()`, `or_()`.",
        why_bad=(
            "A column object is truthy, so `not Model.flag` is `False` in Python and the "
            "filter silently becomes `WHERE false`."
        ),
        fix_steps=("Write `~Model.flag`, `Model.flag.is_(False)` or `sqlalchemy.not_(Model.flag)`.",),
        how_to_test=_HOW_TO_TEST,
        references=_REFERENCES,
    ),
    bad_example="""\
from sqlalchemy import select

from shop.models import Product


def hidden_products():
    return select(Product).where(not Product.visible)
""",
    good_example="""\
from sqlalchemy import select

from shop.models import Product


def hidden_products():
    return select(Product).where(~Product.visible)
""",
)

BOOLEAN_OPERATOR_IN_FILTER = Rule(
    code="ORM504",
    name="boolean-operator-in-filter",
    problem="sql_semantics",
    category=Category.CORRECTNESS,
    severity=Severity.HIGH,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="`and` / `or` between column conditions keeps only one of them.",
    message="{expr} is evaluated by Python and keeps one condition; use {fix}",
    docs=Docs(
        what_it_does="Reports `and` / `or` joining column comparisons inside `where()`, `filter()`, `having()`.",
        why_bad=(
            "Python's `and`/`or` cannot be overloaded: SQLAlchemy raises "
            "`TypeError: Boolean value of this clause is not defined` at best, and with "
            "some expressions one condition is silently dropped."
        ),
        fix_steps=(
            "Pass the conditions as separate arguments: `.where(a, b)` (they are AND-ed).",
            "Or use `and_(a, b)`, `or_(a, b)`, `a & b`, `a | b`.",
        ),
        how_to_test=_HOW_TO_TEST,
        references=_REFERENCES,
    ),
    bad_example="""\
from sqlalchemy import select

from shop.models import Order


def open_orders_of(customer_id):
    return select(Order).where(Order.customer_id == customer_id and Order.status == "open")
""",
    good_example="""\
from sqlalchemy import select

from shop.models import Order


def open_orders_of(customer_id):
    return select(Order).where(Order.customer_id == customer_id, Order.status == "open")
""",
)

RULES = (
    IDENTITY_TEST_IN_FILTER,
    MEMBERSHIP_TEST_IN_FILTER,
    NOT_OPERATOR_IN_FILTER,
    BOOLEAN_OPERATOR_IN_FILTER,
)
