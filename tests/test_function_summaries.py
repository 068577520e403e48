"""Functions of one module called in a loop of another: the query or the relation read happens in the helper,
the finding is at the call in the loop and names the helper.

Each project is checked by real flake8 on the module with the loops only (as an editor does): the helper's
module is found through the imports (`from app.services import f`, `from app import services`) and read from
source. A helper of another module that queries is reported per row of a query (the loop's own query, a
helper's, an admin action's `queryset`). Look-alikes stay silent: a helper that queries only on a branch, a loop
over a constant or over a list a message holds, a helper that remembers its results, a helper whose query
eager-loads what is read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_project_index import flake8, write_project

DJANGO = {
    "shelf/__init__.py": "",
    "shelf/models.py": """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    isbn = models.CharField(max_length=13)
    public = models.BooleanField()
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
""",
    "shelf/services.py": """\
from functools import lru_cache

from shelf.models import Book


def price_of(isbn):
    book = Book.objects.get(isbn=isbn)
    return book.price


def maybe_price(isbn, known):
    if isbn in known:
        return known[isbn]
    return Book.objects.get(isbn=isbn).price


@lru_cache(maxsize=None)
def remembered_price(isbn):
    return Book.objects.get(isbn=isbn).price


def author_line(book):
    return f"{book.isbn} by {book.author.name}"


def visible_books():
    return Book.objects.filter(public=True)


def visible_books_with_authors():
    return Book.objects.filter(public=True).select_related("author")
""",
    "shelf/views.py": """\
from shelf import services
from shelf.models import Book
from shelf.services import author_line, price_of, remembered_price, visible_books


def prices():
    return [price_of(book.isbn) for book in Book.objects.filter(public=True)]  # error: ORM101


def prices_through_the_module(queryset):
    return [services.price_of(book.isbn) for book in queryset]  # error: ORM101


def prices_of_a_constant_list():
    return [price_of(isbn) for isbn in ("0306406152", "0131103628")]


def prices_of_the_isbns_a_message_holds(message):
    return [price_of(isbn) for isbn in message["isbns"]]


def prices_queried_only_when_unknown(known):
    return [services.maybe_price(book.isbn, known) for book in Book.objects.all()]


def prices_remembered():
    return [remembered_price(book.isbn) for book in Book.objects.all()]


def lines():
    return [author_line(book) for book in Book.objects.filter(public=True)]  # error: ORM102


def lines_loaded():
    return [author_line(book) for book in Book.objects.select_related("author")]


def authors_of_visible_books():
    return [book.author.name for book in visible_books()]  # error: ORM102


def authors_of_visible_books_loaded():
    return [book.author.name for book in services.visible_books_with_authors()]
""",
}

SQLALCHEMY = {
    "shop/__init__.py": "",
    "shop/models.py": """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "order"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")
""",
    "shop/repository.py": """\
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .models import Customer


def customer_of(session, pk):
    return session.get(Customer, pk)


def customer_unless_known(session, pk, known):
    if pk in known:
        return known[pk]
    return session.get(Customer, pk)


def order_count(customer):
    return len(customer.orders)


def customers(session):
    return session.scalars(select(Customer).limit(50)).all()


def customers_with_orders(session):
    return session.scalars(select(Customer).options(selectinload(Customer.orders)).limit(50)).all()
""",
    "shop/reports.py": """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import repository
from shop.models import Order
from shop.repository import customers, order_count


def customers_of_orders(session: Session):
    return [repository.customer_of(session, o.customer_id) for o in session.scalars(select(Order))]  # error: ORM101


def customers_of_orders_unless_known(session, known):
    return [repository.customer_unless_known(session, o.customer_id, known) for o in session.scalars(select(Order))]


def order_counts(session):
    return [order_count(customer) for customer in customers(session)]  # error: ORM102


def order_counts_loaded(session):
    return [order_count(customer) for customer in repository.customers_with_orders(session)]
""",
}
PROJECTS = {"django": (DJANGO, "shelf/views.py"), "sqlalchemy": (SQLALCHEMY, "shop/reports.py")}


def _marked(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.split("# error: ")[1].strip())
        for number, line in enumerate(text.splitlines(), 1)
        if "# error: " in line
    ]


@pytest.mark.parametrize("framework", sorted(PROJECTS))
def test_helpers_of_other_modules_called_per_item(tmp_path: Path, framework: str) -> None:
    files, loop_file = PROJECTS[framework]
    root = write_project(tmp_path / "project", files)
    found = flake8(root, loop_file, tmp_path / "cache")
    assert [(line, message.split()[0]) for line, message in found] == _marked(files[loop_file])


def test_the_finding_names_the_helper_and_what_it_does(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", DJANGO)
    messages = dict(flake8(root, "shelf/views.py", tmp_path / "cache"))
    assert "price_of(...), which calls Book.objects.get(...)," in messages[7]
    assert "services.price_of(...), which calls Book.objects.get(...)," in messages[11]
    assert "author_line(...), which reads book.author," in messages[31]
    assert 'select_related("author")' in messages[31] and 'select_related("author")' in messages[39]


def test_a_helper_module_edited_changes_the_findings(tmp_path: Path) -> None:
    """The helper's module is read again when it changes: a helper that starts remembering its results is silent."""
    root = write_project(tmp_path / "project", DJANGO)
    cache = tmp_path / "cache"
    assert 7 in [line for line, _ in flake8(root, "shelf/views.py", cache)]
    services = root / "shelf" / "services.py"
    services.write_text(
        DJANGO["shelf/services.py"].replace("def price_of(", "@lru_cache(maxsize=None)\ndef price_of("),
        encoding="utf-8",
    )
    assert 7 not in [line for line, _ in flake8(root, "shelf/views.py", cache)]


def test_the_results_cache_follows_a_helper_module(tmp_path: Path) -> None:
    """`orm-lint check` with its results cache: an unchanged views module is judged again when a helper it
    calls changes (its query becomes conditional, on the same line: the models and the project's query sites
    stay the same, only the helper's module tells)."""
    root = write_project(tmp_path / "project", DJANGO)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def lines() -> list[int]:
        proc = subprocess.run(
            [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "shelf/views.py"],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return [int(line.split(":")[1]) for line in proc.stdout.splitlines() if "ORM101" in line]

    assert 7 in lines()
    assert 7 in lines()  # from the cache
    services = root / "shelf" / "services.py"
    conditional = "book = isbn and Book.objects.get(isbn=isbn)"
    services.write_text(DJANGO["shelf/services.py"].replace("book = Book.objects.get(isbn=isbn)", conditional))
    assert 7 not in lines()


def test_a_relative_import_of_the_helpers_module(tmp_path: Path) -> None:
    """`from . import services` names the package's own module, as `from shelf import services` does."""
    views = DJANGO["shelf/views.py"].replace("from shelf import services\n", "from . import services\n")
    root = write_project(tmp_path / "project", {**DJANGO, "shelf/views.py": views})
    messages = dict(flake8(root, "shelf/views.py", tmp_path / "cache"))
    assert "services.price_of(...), which calls Book.objects.get(...)," in messages[11]


OWNED = {
    "app/__init__.py": "",
    "app/models.py": """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    comments: Mapped[list["Comment"]] = relationship()


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author: Mapped[User] = relationship()
""",
    "app/crud.py": """\
from fastapi import HTTPException


def get_owned(session, model, object_id, user_id):
    obj = session.get(model, object_id)
    if obj is None or obj.owner_id != user_id:
        raise HTTPException(status_code=404)
    return obj


def summary(session, model, object_id):
    return session.get(model, object_id).summary()
""",
    "app/routes.py": """\
from sqlalchemy.orm import selectinload

from app.crud import get_owned, summary
from app.models import ArchivedTask, Task


def comment_authors(session, task_id, user_id):
    task = get_owned(session, Task, task_id, user_id)
    return [c.author.name for c in task.comments]  # error: ORM102


def by_keyword(session, task_id, user_id):
    task = get_owned(session, model=Task, object_id=task_id, user_id=user_id)
    return [c.author.name for c in task.comments]  # error: ORM102


def local_helper(session, task_id):
    task = _load(session, Task, task_id)
    return [c.author.name for c in task.comments]  # error: ORM102


def _load(session, model, pk):
    return session.get(model, pk)


def not_the_object(session, task_id):
    task = summary(session, Task, task_id)
    return [c.author.name for c in task.comments]


def loaded_along(session, task_id):
    task = _load_with_comments(session, Task, task_id)
    return [c.author.name for c in task.comments]


def _load_with_comments(session, model, pk):
    return session.get(model, pk, options=[selectinload(model.comments)])


def either_model(session, pk, archived):
    task = _one_of(session, Task, pk, archived)
    return [c.author.name for c in task.comments]


def _one_of(session, model, pk, archived):
    if archived:
        return session.get(ArchivedTask, pk)
    return session.get(model, pk)


class TaskService:
    def __init__(self, session):
        self.session = session

    def authors(self, task_id):
        task = self._load(Task, task_id)
        return [c.author.name for c in task.comments]  # error: ORM102

    def _load(self, model, pk):
        return self.session.get(model, pk)
""",
}


def test_a_helper_that_returns_the_object_of_the_model_it_is_given(tmp_path: Path) -> None:
    """`get_owned(session, Task, pk)` returns what `session.get(model, pk)` loads: a Task, whose comments' authors
    are then read one by one; so does a method `self._load(Task, pk)`. Its module imports no ORM. Not a helper that
    returns something else of the object, loads it with options, or returns objects of two models."""
    root = write_project(tmp_path / "project", OWNED)
    found = flake8(root, "app/routes.py", tmp_path / "cache")
    marked = [n for n, line in enumerate(OWNED["app/routes.py"].splitlines(), 1) if "# error: ORM102" in line]
    assert [line for line, message in found if message.startswith("ORM102")] == marked


COLLABORATOR = {
    "app/__init__.py": "",
    "app/models.py": """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Rule(Base):
    __tablename__ = "rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str]
""",
    "app/store.py": """\
from sqlalchemy import select

from app.db import Session
from app.models import Rule


class RuleStore:
    def rules_of(self, tenant_id):
        with Session() as session:
            return session.scalars(select(Rule).where(Rule.tenant_id == tenant_id)).all()

    def cached(self, tenant_id):
        return self._cache.get(tenant_id)
""",
    "app/manager.py": """\
from sqlalchemy import select

from app.models import Rule
from app.store import RuleStore


class Manager:
    def __init__(self, session, other):
        self.session = session
        self.store = RuleStore()
        self.other = other

    def refresh(self):
        for rule in self.session.scalars(select(Rule)):
            self.store.rules_of(rule.tenant_id)  # error: ORM101
            self.store.cached(rule.tenant_id)
            self.other.rules_of(rule.tenant_id)
""",
}


def test_a_method_of_an_object_the_class_holds(tmp_path: Path) -> None:
    """`self.store.rules_of(...)` per row, where `__init__` sets `self.store = RuleStore()` and that class (in another
    module) always queries in `rules_of`: the finding names the method and its query. Not a method that does not
    query, nor one of an object the class was handed (its class is not known)."""
    root = write_project(tmp_path / "project", COLLABORATOR)
    found = flake8(root, "app/manager.py", tmp_path / "cache")
    marked = [n for n, line in enumerate(COLLABORATOR["app/manager.py"].splitlines(), 1) if "# error: ORM101" in line]
    assert [line for line, message in found if message.startswith("ORM101")] == marked
    assert "self.store.rules_of(...), which calls session.scalars(...).all()," in found[0][1]
