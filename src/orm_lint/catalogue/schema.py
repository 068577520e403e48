"""Schema rules (ORM3xx): what the model definitions make slow for every query."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, Category, Docs, Engine, Framework, Rule, Severity

FOREIGN_KEY_WITHOUT_INDEX = Rule(
    code="ORM301",
    name="foreign-key-without-index",
    problem="fk_no_index",
    category=Category.SCHEMA,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.MYPY,
    summary="A foreign-key column that no index leads: joins and lookups by it scan the table.",
    message="{column} is a foreign key without an index; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports foreign-key columns no index starts with: `mapped_column(ForeignKey(...))`, "
            "`Column(..., ForeignKey(...))`, `db.Column(db.ForeignKey(...))`, SQLModel "
            "`Field(foreign_key=...)` on `table=True` models (and the mixins they inherit), and "
            "Django `ForeignKey(..., db_index=False)`. A column is covered by `index=True`, "
            "`unique=True`, a primary key (also a composite one), or by being the first column "
            "of an `Index`/`UniqueConstraint`/`PrimaryKeyConstraint` in `__table_args__` or of "
            "Django `Meta.indexes`/`constraints`/`unique_together`. Django indexes every "
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

RULES = (FOREIGN_KEY_WITHOUT_INDEX, FOREIGN_KEY_WITHOUT_INDEX_ON_UNTYPED_MODEL)
