"""Schema rules (ORM3xx): what the model definitions make slow for every query."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, Category, Docs, Engine, Example, Framework, Rule, Severity

FOREIGN_KEY_WITHOUT_INDEX = Rule(
    code="ORM301",
    name="foreign-key-without-index",
    problem="fk_no_index",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A foreign-key column that no index leads: joins and lookups by it scan the table.",
    message="{column} is a foreign key without an index; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports foreign-key columns no index starts with, reading the model declarations (the "
            "syntax engine, so it needs no mypy; one finding per column, where it is declared): "
            "`mapped_column(ForeignKey(...))`, `Column(..., ForeignKey(...))` on typed models, SQLModel "
            "`Field(foreign_key=...)` on `table=True` models and the bases they inherit, and "
            "Django `ForeignKey(..., db_index=False)` (ORM302 covers `db.Model` and "
            "`declarative_base()` models). A column is covered by `index=True`, "
            "`unique=True`, a primary key (the first column of a composite one), or by being the first column "
            "of an `Index`/`UniqueConstraint`/`PrimaryKeyConstraint` in `__table_args__` or of "
            "Django `Meta.indexes`/`constraints`/`unique_together`, or by an index an Alembic revision "
            "of the project creates on the table (`op.create_index`). Django indexes every "
            "`ForeignKey` unless `db_index=False`; PostgreSQL and SQLite do not index foreign keys "
            'by themselves. MySQL\'s InnoDB does: with `backend = "mysql"` in `[tool.orm-lint]` '
            "the rule is off."
        ),
        why_bad=(
            "Every join from the parent, every `parent.children` load and every `ON DELETE` "
            "check looks rows up by this column. Without an index each lookup reads the whole "
            "table; it is fast in development and slow once the table grows. A composite index "
            "helps only when the column comes first in it."
        ),
        fix_steps=(
            "SQLAlchemy/SQLModel: add `index=True` to the column (or an `Index` in "
            "`__table_args__` that starts with it).",
            'Django: remove `db_index=False`, or add `models.Index(fields=["<field>"])` to `Meta.indexes`.',
            "Create the index in a migration; on PostgreSQL use `CREATE INDEX CONCURRENTLY` "
            "(`AddIndexConcurrently`, `postgresql_concurrently=True`) on a large table.",
        ),
        how_to_test=(
            "Run `EXPLAIN QUERY PLAN` (SQLite) or `EXPLAIN` (PostgreSQL) for a lookup by the "
            "column and assert it shows an index search, not a table scan."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/core/constraints.html#indexes",
            "https://docs.djangoproject.com/en/stable/ref/models/fields/#django.db.models.ForeignKey",
        ),
    ),
    bad_example="""\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
""",
    good_example="""\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
""",
    more_examples=(
        Example(
            framework=Framework.DJANGO,
            bad="""\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, db_index=False)
""",
            good="""\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)  # indexed unless db_index=False
""",
        ),
    ),
)

FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL = Rule(
    code="ORM302",
    name="foreign-key-without-index-on-untyped-model",
    problem="fk_no_index",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=(Framework.FLASK_SQLALCHEMY, Framework.SQLALCHEMY),
    engine=Engine.FLAKE8,
    summary="A foreign key without an index on a model mypy cannot see (`db.Model`, `declarative_base()`).",
    message="{column} is a foreign key without an index; {fix}",
    docs=Docs(
        what_it_does=(
            "The same check as ORM301, from syntax, for the models the mypy plugin cannot "
            "see: classes built on Flask-SQLAlchemy's `db.Model` (mypy rejects it as a base "
            "class and treats the model as `Any`) or on a `Base = declarative_base()` of the same "
            "module. A `Column(..., ForeignKey(...))` / `db.Column(db.ForeignKey(...))` is "
            "reported unless `index=True`, `unique=True`, `primary_key=True`, or an `Index` / "
            "`UniqueConstraint` / `PrimaryKeyConstraint` in `__table_args__` or at module level "
            "starts with it. Typed models (`DeclarativeBase`, SQLModel, Django) are ORM301's."
        ),
        why_bad=(
            "PostgreSQL and SQLite do not index foreign keys by themselves: every join, every "
            "`parent.children` load and every `ON DELETE` check scans the child table."
        ),
        fix_steps=(
            "Add `index=True` to the column, or an `Index` in `__table_args__` that starts with it.",
            "Create the index in a migration (on PostgreSQL with `postgresql_concurrently=True` on a large table).",
        ),
        how_to_test=(
            "Run `EXPLAIN QUERY PLAN` (SQLite) or `EXPLAIN` (PostgreSQL) for a lookup by the column "
            "and assert it shows an index search, not a table scan."
        ),
        references=("https://docs.sqlalchemy.org/en/20/core/constraints.html#indexes",),
    ),
    bad_example="""\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Comment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("post.id"))
""",
    good_example="""\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Comment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("post.id"), index=True)
""",
)

NON_UNIQUE_LOOKUP = Rule(
    code="ORM303",
    name="non-unique-lookup",
    problem="non_unique_lookup",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="`get(email=...)` / `.one()` expects one row by columns no unique constraint covers.",
    message="{lookup} expects one row, but no unique constraint covers {columns}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports lookups that return exactly one object, made only of equality conditions on "
            "columns of one model, when no unique constraint covers those columns: Django `get()`, "
            "`get_or_create()`, `update_or_create()` (the `defaults` aside, `filter()` keywords "
            "before them counted); SQLAlchemy, SQLModel and Flask-SQLAlchemy `.one()`, "
            "`.one_or_none()`, `.scalar_one()`, `.scalar_one_or_none()` on `select(Model)` or "
            "`query(Model)` filtered by `Model.col == value` or `filter_by(col=value)`. A column set "
            "is covered by the primary key (`pk`, `id` in Django), `unique=True`, a one-to-one field, "
            "or a `unique_together`, `UniqueConstraint`, `PrimaryKeyConstraint` or unique `Index` whose "
            "columns are all among the lookup's. The model is read from the project's own source; "
            "when it is not found, has a base class declared outside the project, or declares a "
            "constraint the reader cannot follow (a computed `__table_args__`, an expression "
            "constraint, an `Annotated` column alias), the rule stays silent. Test modules, joins, "
            "lookups through relations (`user__email=`), `Q` objects and custom manager methods are "
            "not reported; neither is a lookup inside `try` that handles `MultipleObjectsReturned` or "
            "`MultipleResultsFound`."
        ),
        why_bad=(
            "Nothing stops two rows from having the same value, so the lookup works until the day "
            "they do: then `get()` raises `MultipleObjectsReturned`, `one()` raises "
            "`MultipleResultsFound`, and `get_or_create()` run by two requests at once creates the "
            "duplicate itself (it is only race-safe on a unique column). The error shows up in "
            "production, on data no test had, and it is often a login or a checkout that breaks."
        ),
        fix_steps=(
            "When the column must be unique: add `unique=True` to it, or a `UniqueConstraint` "
            "(`Meta.constraints` in Django, `__table_args__` in SQLAlchemy) over the columns the lookup uses.",
            "Write the migration in two steps on a live table: find and merge the existing duplicates "
            "(`values(col).annotate(n=Count('id')).filter(n__gt=1)` / `GROUP BY col HAVING count(*) > 1`), "
            "then add the constraint (on PostgreSQL, build a unique index `CONCURRENTLY` first and "
            "attach the constraint to it).",
            "When duplicates are legitimate: use `filter(...).first()` / `.first()` with an explicit "
            "`order_by`, and decide what happens when there is more than one.",
        ),
        how_to_test=(
            "Add a test that inserts two rows with the same value and asserts the second insert "
            "raises `IntegrityError`; the lookup can then never see two rows."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#get-or-create",
            "https://docs.djangoproject.com/en/stable/ref/models/constraints/#uniqueconstraint",
            "https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Result.one",
        ),
    ),
    bad_example="""\
from django.db import models


class Customer(models.Model):
    email = models.EmailField()
    name = models.CharField(max_length=200)


def customer_for(email):
    return Customer.objects.get(email=email)
""",
    good_example="""\
from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)


def customer_for(email):
    return Customer.objects.get(email=email)
""",
)

MONEY_IN_FLOAT_COLUMN = Rule(
    code="ORM304",
    name="money-in-float-column",
    problem="float_money",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A price, amount or balance stored in a binary floating-point column.",
    message="{column} stores money in a binary float; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports model columns of a floating-point type whose name (or Django verbose name) says "
            "money: Django `FloatField`, SQLAlchemy `Float`/`REAL`/`DOUBLE` in `Column`/`mapped_column` "
            "(also `db.Float`), `Mapped[float]` without an explicit type, and SQLModel fields annotated "
            "`float`. Money words are price, cost, fee, salary, tax, balance, revenue, payment, "
            "refund, wage, budget and the like; amount, total, subtotal and discount count only on "
            "a model whose name is about money (an order, invoice, payment, transaction, cart ...). "
            "Rates, ratios, percentages, counts, durations, weights and scores are not money."
        ),
        why_bad=(
            "A binary float cannot hold most decimal fractions: 0.1 + 0.2 is 0.30000000000000004. "
            "Sums of prices drift by cents, totals stop matching invoices, equality tests on amounts "
            "fail, and rounding differs between the database and Python. Accounting code needs exact "
            "decimal arithmetic."
        ),
        fix_steps=(
            "Django: `models.DecimalField(max_digits=12, decimal_places=2)`; SQLAlchemy: "
            "`Numeric(12, 2)` with `Mapped[Decimal]`; SQLModel: `Decimal` with "
            "`Field(max_digits=12, decimal_places=2)`. Or store integer cents (`BigIntegerField`).",
            "Migrate with an explicit cast (`ALTER COLUMN ... TYPE numeric(12, 2) USING round(col::numeric, 2)`) "
            "and check the rounded values against the old ones first.",
            "Use `decimal.Decimal` in the code that reads and computes with the column.",
        ),
        how_to_test=(
            "Save 0.1 and 0.2, read back their sum from the database (`Sum()` / `func.sum`) and assert "
            'it equals `Decimal("0.30")`.'
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/fields/#decimalfield",
            "https://docs.sqlalchemy.org/en/20/core/type_basics.html#sqlalchemy.types.Numeric",
        ),
    ),
    bad_example="""\
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=200)
    price = models.FloatField()
""",
    good_example="""\
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
""",
)

JSON_KEY_FILTER_WITHOUT_INDEX = Rule(
    code="ORM305",
    name="json-key-filter-without-index",
    problem="json_key_no_index",
    category=Category.SCHEMA,
    severity=Severity.LOW,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A JSON column filtered by the same key at several places with no GIN or expression index.",
    message="{column} is filtered by key {key} at {count} ({places}) with no index on it; {fix}",
    docs=Docs(
        what_it_does=(
            "Collects, across the whole project, the queries that filter a JSON column by a key: Django "
            "`filter(data__plan=...)` / `get(...)` / `Q(...)` on a `JSONField`, SQLAlchemy "
            '`.where(Model.data["plan"].astext == ...)` (also `.as_string()`, `in_()`) on a '
            "`JSON`/`JSONB` column. When the same key is filtered at two places or more, one finding is "
            "reported at the column's declaration, naming the places. Two, because one ad-hoc lookup is not an "
            "access path, while the same key read in two places of the code is how the application finds its "
            'rows. Silent when a `GinIndex`, an `Index(..., postgresql_using="gin")` or an expression index '
            "naming the column or the key exists in `Meta.indexes` or `__table_args__` (a module-level "
            "`Index(...)` on an expression is not read yet), and for queries in tests, migrations, admin modules and "
            "fixtures; `has_key`, `contains` and other JSON operators are not counted."
        ),
        why_bad=(
            "A filter on a key inside a JSON document cannot use an ordinary index on the column: the "
            "database reads and decodes every row's document to compare the key. Fine on a small table, it "
            "grows with the table, and the key's values are invisible to the planner's statistics."
        ),
        fix_steps=(
            'Add an expression index on the key: Django `models.Index(KeyTextTransform("plan", "data"), '
            'name="order_plan_idx")`, SQLAlchemy `Index("ix_order_plan", Order.data["plan"].astext)` in `__table_args__`.',
            'Or query by containment (`data__contains={"plan": "pro"}`, `Order.data.contains(...)`) and add a '
            '`GinIndex(fields=["data"])` / `Index(..., postgresql_using="gin")`.',
            "A key every row has and the code filters on often belongs in a column of its own.",
            "Create the index with `AddIndexConcurrently` / `op.create_index(..., postgresql_concurrently=True)`.",
        ),
        how_to_test=(
            "Run `EXPLAIN` on the query on a table of realistic size and assert an index scan on the key's "
            "expression, not a sequential scan."
        ),
        references=(
            "https://www.postgresql.org/docs/current/datatype-json.html#JSON-INDEXING",
            "https://docs.djangoproject.com/en/stable/topics/db/queries/#querying-jsonfield",
        ),
    ),
    bad_example="""\
from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)
    data = models.JSONField(default=dict)


def pro_accounts():
    return Account.objects.filter(data__plan="pro")


def count_free():
    return Account.objects.filter(data__plan="free").count()
""",
    good_example="""\
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [GinIndex(fields=["data"], name="account_data_gin")]


def pro_accounts():
    return Account.objects.filter(data__contains={"plan": "pro"})


def count_free():
    return Account.objects.filter(data__contains={"plan": "free"}).count()
""",
)

QUERY_WITHOUT_INDEX = Rule(
    code="ORM306",
    name="query-without-index",
    problem="missing_index",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="The project's queries filter or sort a model by columns no index leads with.",
    message="{model} is queried by {columns} at {count} ({places}) and no index leads with them; {fix}",
    docs=Docs(
        what_it_does=(
            "Index advice drawn from the code's own queries. Every query site of the project is collected "
            "from source: Django `filter()`, `get()`, `get_or_create()`, `order_by()`, `Q(...) & Q(...)` and "
            "`get_object_or_404()` on `Model.objects` (a lookup through a relation, `author__email=`, counts "
            "for the related model), SQLAlchemy, SQLModel and Flask-SQLAlchemy `where()`, `filter()`, "
            "`filter_by()` and `order_by()`. Per model, conditions by equality (`=`, `__in`) and "
            "by range or order (`__gte`, `<`, `order_by`) are grouped; a site is served when an existing index "
            "leads with one of its equality columns (or, without equality, with its first range or sort "
            "column): primary keys, unique constraints, Django's implicit foreign-key and slug indexes, "
            "`db_index=True`/`index=True`, `Meta.indexes`, `index_together`, `unique_together`, "
            "`__table_args__`, module-level `Index(...)` and the indexes Alembic revisions create. Sites no "
            "index serves ask for a composite index: equality columns first, then the range or sort column. "
            "One finding per advised index, at the model, naming the places (the review lists them all). "
            "Places weigh by kind: an endpoint (views, API, routes, resolvers, decorated or class-based "
            "views) 2, other code and background jobs 1, management commands and scripts 1/2; advice needs "
            "2 (one endpoint, or two other places; 4 for a sort with no condition, which scans the table only "
            "when paged) and is medium from 4 with an endpoint among them, low below. Queries in tests, "
            "migrations, admin modules and fixtures are not counted; conditions no "
            "plain index serves (`icontains`, `__year`, `IS NULL`, `or_`, `~Q`, `exclude()`, functions of a "
            "column) are left out, and so are SQLAlchemy chains on a variable (`query = query.filter(...)`), "
            "whose other conditions are out of sight; a sort or a range alone is not advised for rows narrowed "
            "by a join or a condition left out. A column holding few values (a boolean, an enum, a field with "
            "`choices`, a `role`, `type`, `lang`, `is_...` column) or large ones (text, binary) never leads an "
            "advised index; a foreign key counts as indexed (ORM301 asks for its index). Tiny lookup "
            "tables (a `...Type`, `...Status`, `Country` model with a few columns) and models whose indexes "
            "cannot be read (a computed `__table_args__`) get none."
        ),
        why_bad=(
            "A query by columns no index leads with reads the whole table. It is instant in development "
            "and on a young table, then grows linearly with the data until the endpoint times out. An index "
            "that starts with another column does not help: a B-tree is searched by its leading columns."
        ),
        fix_steps=(
            "Django: add `models.Index(fields=[...], name=...)` to `Meta.indexes` (equality columns first, "
            "then the range or sort column) and create it with `AddIndexConcurrently` in a migration with "
            "`atomic = False` on PostgreSQL.",
            'SQLAlchemy: add `Index("ix_...", ...)` to `__table_args__` (or `index=True` on a single column) '
            "and create it in an Alembic revision with `op.create_index(..., postgresql_concurrently=True)` "
            "inside `with op.get_context().autocommit_block():`.",
            "Check the advice with `EXPLAIN` on production-sized data: a column that holds few distinct "
            "values is not worth an index of its own.",
        ),
        how_to_test=(
            "Run `EXPLAIN` for each listed query on a table of realistic size and assert an index scan; "
            'the review\'s section "Indexes this code asks for" lists the places per index.'
        ),
        references=(
            "https://use-the-index-luke.com/sql/where-clause/the-equals-operator/concatenated-keys",
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations",
            "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.create_index",
        ),
    ),
    bad_example="""\
from django.db import models


class Ticket(models.Model):
    reference = models.CharField(max_length=20)
    opened = models.DateTimeField()


def ticket_page(reference):
    return Ticket.objects.filter(reference=reference).order_by("-opened")


def resend(reference):
    return Ticket.objects.filter(reference=reference).first()
""",
    good_example="""\
from django.db import models


class Ticket(models.Model):
    reference = models.CharField(max_length=20)
    opened = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["reference", "opened"], name="ticket_reference_opened")]


def ticket_page(reference):
    return Ticket.objects.filter(reference=reference).order_by("-opened")


def resend(reference):
    return Ticket.objects.filter(reference=reference).first()
""",
    more_examples=(
        Example(
            framework=Framework.SQLALCHEMY,
            bad="""\
from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    opened = mapped_column(DateTime)


def ticket_page(session, reference):
    return session.scalars(select(Ticket).where(Ticket.reference == reference).order_by(Ticket.opened.desc())).all()


def resend(session, reference):
    return session.scalars(select(Ticket).where(Ticket.reference == reference)).first()
""",
            good="""\
from sqlalchemy import DateTime, Index, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_reference_opened", "reference", "opened"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    opened = mapped_column(DateTime)


def ticket_page(session, reference):
    return session.scalars(select(Ticket).where(Ticket.reference == reference).order_by(Ticket.opened.desc())).all()


def resend(session, reference):
    return session.scalars(select(Ticket).where(Ticket.reference == reference)).first()
""",
        ),
    ),
)

RULES = (
    FOREIGN_KEY_WITHOUT_INDEX,
    FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL,
    NON_UNIQUE_LOOKUP,
    MONEY_IN_FLOAT_COLUMN,
    JSON_KEY_FILTER_WITHOUT_INDEX,
    QUERY_WITHOUT_INDEX,
)
