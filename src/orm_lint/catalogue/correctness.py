"""Correctness rules (ORM5xx): Python operators that silently produce the wrong SQL."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, SQLALCHEMY_FAMILY, Category, Docs, Engine, Framework, Rule, Severity

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

LAZY_LOAD_THAT_RAISES = Rule(
    code="ORM510",
    name="lazy-load-that-raises",
    problem="raising_lazy_load",
    category=Category.CORRECTNESS,
    severity=Severity.HIGH,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.MYPY,
    summary="A relation that cannot be lazily loaded here is read without being eager-loaded.",
    message="{access} is not loaded and {reason}; {fix}",
    docs=Docs(
        what_it_does=(
            'Reports reading a relationship declared `lazy="raise"` / `"raise_on_sql"` '
            "that the query did not eager-load, and reading a lazily loaded relationship "
            "inside `async def` code (SQLAlchemy's asyncio extension cannot run the implicit "
            "lazy load: it raises `MissingGreenlet`). Only objects whose query is visible in "
            "the function are checked."
        ),
        why_bad=(
            "The code raises at run time (`InvalidRequestError` for `raise`, `MissingGreenlet` "
            "in async code), often only on the path the tests did not take."
        ),
        fix_steps=(
            "Eager-load the relation in the query: `.options(selectinload(Model.rel))` or `joinedload(...)`.",
            'In async code, or load it explicitly: `await session.refresh(obj, ["rel"])` or '
            "`await obj.awaitable_attrs.rel`.",
        ),
        how_to_test="Call the code path in a test with a real session; it raises before the fix.",
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html#raiseload",
        ),
    ),
    bad_example="""\
from __future__ import annotations

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Hero(Base):
    __tablename__ = "heroes"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    team: Mapped[Team] = relationship()


async def team_name(session: AsyncSession, hero_id: int) -> str:
    hero = (await session.scalars(select(Hero).where(Hero.id == hero_id))).one()
    return hero.team.name
""",
    good_example="""\
from __future__ import annotations

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Hero(Base):
    __tablename__ = "heroes"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    team: Mapped[Team] = relationship()


async def team_name(session: AsyncSession, hero_id: int) -> str:
    stmt = select(Hero).options(joinedload(Hero.team)).where(Hero.id == hero_id)
    hero = (await session.scalars(stmt)).one()
    return hero.team.name
""",
)

UNFILTERED_DELETE_OR_UPDATE = Rule(
    code="ORM505",
    name="unfiltered-delete-or-update",
    problem="unfiltered_write",
    category=Category.CORRECTNESS,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A bulk `delete()`/`update()` with no condition writes every row of the table.",
    message="{expr} {verb} every row of {model}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports bulk writes with no condition in application code: Django "
            "`Model.objects.all().delete()`, `Model.objects.update(...)`, `Model.objects.all().update(...)`; "
            "SQLAlchemy `session.query(Model).delete()`/`.update(...)`, Flask-SQLAlchemy "
            "`Model.query.delete()`, and `session.execute(delete(Model))` / "
            "`session.execute(update(Model).values(...))` (also through a local variable) without "
            "`where()`/`filter()`/`filter_by()`. Migrations, test modules and management commands are "
            "not checked, nor is a function or module whose name states the whole-table intent "
            "(`clear_cache`, `reset_counters`, `purge_all`, `rebuild_ranking`, `delete_all_...`), a "
            "function that writes the same model again (a rebuild: delete all, then create; a reset: "
            "all off, then one on), a query through a custom manager method or a related manager "
            "(those are filtered), or a `delete()` called with arguments (the project's own method)."
        ),
        why_bad=(
            "Bulk writes skip `save()`, signals and per-object permission checks, and no transaction "
            'log review catches a missing `filter()`: `Order.objects.update(status="shipped")` ships '
            "every order ever placed. A forgotten condition is usually a refactoring slip (the filter "
            "was on the line removed, or on a queryset variable that got renamed), and its damage is "
            "only repaired from a backup."
        ),
        fix_steps=(
            "Add the condition the write is meant for: `Model.objects.filter(...).update(...)`, "
            "`delete(Model).where(Model.owner_id == owner_id)`.",
            "When the whole table is meant (a cache table, a nightly rebuild), say so: put it in a "
            "function named after that intent (`clear_...`, `reset_...`, `purge_...`), or write "
            "`# noqa: ORM505` with a reason; consider `TRUNCATE` for large tables.",
        ),
        how_to_test=(
            "Create a row the write must not touch (another owner, another status), run the code "
            "and assert that row is unchanged."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#update",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html#orm-update-and-delete-with-custom-where-criteria",
        ),
    ),
    bad_example="""\
from shop.models import Order


def mark_shipped(order_ids):
    Order.objects.update(status="shipped")
""",
    good_example="""\
from shop.models import Order


def mark_shipped(order_ids):
    Order.objects.filter(pk__in=order_ids).update(status="shipped")
""",
)

FIRST_ROW_BY_INDEX = Rule(
    code="ORM506",
    name="first-row-by-index",
    problem="unguarded_first_row",
    category=Category.CORRECTNESS,
    severity=Severity.LOW,
    frameworks=(Framework.DJANGO,),
    engine=Engine.FLAKE8,
    summary="`qs.order_by(...)[0]` raises `IndexError` when no row matches; `first()` returns None.",
    message="{expr} raises IndexError when no row matches; use {fix} and handle None",
    docs=Docs(
        what_it_does=(
            "Reports a Django QuerySet indexed with `[0]` where it is built "
            '(`Model.objects.filter(...)[0]`, `qs.order_by("-created")[0]`, `qs.all()[0]`), unless '
            "the indexing sits in a `try` that handles `IndexError` (or `LookupError`, `Exception`), "
            "or under an `if` that tests whether rows exist (`exists()`, `count()`, `len()`, `bool()`, `first()`, `last()`), or after "
            "the function returned early on what a helper of the module decided by testing the same "
            "model's rows (`if redirect: return redirect`). `list(qs)[0]` is ORM107's (it loads every row); SQLAlchemy's `.all()[0]` too."
        ),
        why_bad=(
            "The query runs with `LIMIT 1`, so it costs no more than `first()`, but when no row "
            "matches it raises `IndexError`: an error page for a missing record instead of a 404 or a "
            "default, often on data that only production has (the first user of a new tenant, an "
            "empty day). `first()` returns `None` and makes the empty case visible in the code."
        ),
        fix_steps=(
            "Write `qs.order_by(...).first()` (or `.last()`, `.latest()`, `.earliest()`) and handle `None`.",
            "When a row must exist, use `get()` or `get_object_or_404()` so the error says which lookup failed.",
        ),
        how_to_test="Run the code on an empty table and assert it returns the empty-case answer instead of raising.",
        references=("https://docs.djangoproject.com/en/stable/ref/models/querysets/#first",),
    ),
    bad_example="""\
from library.models import Loan


def latest_loan(member):
    return Loan.objects.filter(member=member).order_by("-started")[0]
""",
    good_example="""\
from library.models import Loan


def latest_loan(member):
    return Loan.objects.filter(member=member).order_by("-started").first()
""",
)

RULES = (
    IDENTITY_TEST_IN_FILTER,
    MEMBERSHIP_TEST_IN_FILTER,
    NOT_OPERATOR_IN_FILTER,
    BOOLEAN_OPERATOR_IN_FILTER,
    UNFILTERED_DELETE_OR_UPDATE,
    FIRST_ROW_BY_INDEX,
    LAZY_LOAD_THAT_RAISES,
)
