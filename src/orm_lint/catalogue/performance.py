"""Performance rules (ORM1xx): queries issued per item, unbounded reads, wasteful evaluation."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, SQLALCHEMY_FAMILY, Category, Docs, Engine, Example, Framework, Rule, Severity

QUERY_IN_LOOP = Rule(
    code="ORM101",
    name="query-in-loop",
    problem="query_in_loop",
    category=Category.PERFORMANCE,
    severity=Severity.HIGH,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A query or write is sent to the database on every iteration of a loop.",
    message="{call} runs a query {per}{scale}; {batch}",
    message_defaults={"per": "on every iteration of this loop", "scale": ""},
    docs=Docs(
        what_it_does=(
            "Finds ORM calls that talk to the database inside a `for`/`while` body or a "
            "comprehension: `Model.objects.get()`, `.filter(...).first()`, `.count()`, "
            "`.exists()`, `get_or_create()`, `.create()`, `.save()`, `.delete()`, "
            "`session.get/execute/scalars/scalar/exec/merge/refresh`, legacy `Query` calls, "
            "`Model.query...` and a `commit()`/`flush()` per iteration. What the loop iterates "
            "decides: rows, related collections and values a caller passes in are reported (high); "
            "the items of a request's payload are reported at medium, since the cost grows with "
            "what the client sends (request data, rows of a query filtered by it, a form's or "
            "serializer's submitted values, the matches in one text, a Channels consumer's message "
            "(also as the event its channel layer hands a handler), "
            "files a client uploaded, and the same handed to a helper of the module whose every "
            "caller passes it); "
            "a collection the program writes itself (a literal, a module "
            "constant, an `Enum` or `choices`, `settings.*`, model metadata such as "
            "`_meta.get_fields()` or `__table__.columns`, a function's `**kwargs`, a form's own "
            "fields) is not, nor is a loop over batches that writes each batch with a bulk call. "
            "Calls into a function of the module, or a method of the caller's class or of a base class the module declares, that always "
            "queries (also through a helper of its own) are reported at the call; so, per row of a query, "
            "are a function of another module of the project and a method of an object the class makes in "
            "`__init__` (`self.store = RuleStore()`, then `self.store.rules_of(...)`); `count()` and "
            "`exists()` on a relation the loop's query prefetched are answered from the cache. A "
            "`commit()` per item inside a `try`/`except` that goes on with the next item is "
            "deliberate (one failure does not undo the others): medium, and the message says so. "
            "A call under an `if` that lets one item in n through (`if i % 500 == 0`), or a "
            "throttle that moves its own mark (`if due < now(): ...; due = now() + 5`), is not per item. "
            "Building a statement (`select()`, `delete(Model)`, `table.delete()`) is not a query; "
            "it is reported where it executes. A serializer that a list view or a `many=True` call renders "
            "runs each `SerializerMethodField` method and `to_representation` once per object: a query there "
            "is reported too, at medium (a page of objects when the view paginates), unless it is a "
            "`count()`/`exists()`/`first()`/`last()` a prefetch may answer. "
            "Test modules are not checked: they create and read "
            "rows one at a time on purpose, and no user waits on them."
        ),
        why_bad=(
            "Each call is a network round trip. A loop over 1,000 items sends 1,000 "
            "statements where one would do; the page gets slower as the data grows and "
            "the database spends its time parsing the same statement again and again."
        ),
        fix_steps=(
            "Collect the keys first (`ids = [...]`).",
            "Fetch everything in one query: `filter(id__in=ids)` / `in_bulk()` in Django, "
            "`select(Model).where(Model.id.in_(ids))` in SQLAlchemy, then look items up in a dict.",
            "Write in bulk: `bulk_create`, `bulk_update`, `QuerySet.update()`, "
            "`session.add_all()` with one `commit()` after the loop, or an `update()` statement.",
        ),
        how_to_test=(
            "Count the statements with two and with ten items and assert they are equal: "
            "`with self.assertNumQueries(1):` (Django), `django_assert_num_queries` "
            "(pytest-django), or a SQLAlchemy `before_cursor_execute` event listener."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html",
        ),
    ),
    bad_example="""\
from library.models import Book


def prices(isbns):
    return [Book.objects.get(isbn=isbn).price for isbn in isbns]
""",
    good_example="""\
from library.models import Book


def prices(isbns):
    by_isbn = Book.objects.in_bulk(isbns, field_name="isbn")
    return [by_isbn[isbn].price for isbn in isbns if isbn in by_isbn]
""",
    more_examples=(
        Example(
            framework=Framework.DJANGO,
            operation="save",
            bad="""\
from library.models import Book


def reprice(isbns, rate):
    for book in Book.objects.filter(isbn__in=isbns):
        book.price = book.price * rate
        book.save()
""",
            good="""\
from library.models import Book


def reprice(isbns, rate):
    books = list(Book.objects.filter(isbn__in=isbns))
    for book in books:
        book.price = book.price * rate
    Book.objects.bulk_update(books, ["price"])
""",
        ),
        Example(
            framework=Framework.DJANGO,
            operation="count",
            bad="""\
from library.models import Author


def book_counts():
    return {author.name: author.books.count() for author in Author.objects.all()}
""",
            good="""\
from django.db.models import Count

from library.models import Author


def book_counts():
    return {author.name: author.n for author in Author.objects.annotate(n=Count("books"))}
""",
        ),
        Example(
            framework=Framework.SQLALCHEMY,
            operation="commit",
            bad="""\
from sqlalchemy.orm import Session

from shop.models import Customer


def import_customers(session: Session, rows):
    for row in rows:
        session.add(Customer(email=row["email"]))
        session.commit()
""",
            good="""\
from sqlalchemy.orm import Session

from shop.models import Customer


def import_customers(session: Session, rows):
    session.add_all(Customer(email=row["email"]) for row in rows)
    session.commit()
""",
        ),
    ),
)

RELATION_LOADED_PER_ITEM = Rule(
    code="ORM102",
    name="relation-loaded-per-item",
    problem="n_plus_one",
    category=Category.PERFORMANCE,
    severity=Severity.HIGH,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A loop over a query follows a relation the query did not eager-load (N+1).",
    message="{access} loads a related object once per item of {iterable}{scale}; {fix}",
    message_defaults={"scale": ""},
    docs=Docs(
        what_it_does=(
            "Looks at loops and comprehensions over a query built in the same function (also "
            "through slices, unions, `list()`/`sorted()`, pages of `db.paginate()`/`Query.paginate()`, "
            "the project's own manager and queryset methods), over a related collection of an object "
            "the function loaded (`post.comments`, `publisher.books.order_by(...)`), at Django REST "
            "framework list views and `Serializer(qs, many=True)` calls whose serializer reads relations "
            "of each object, and at Django feeds whose `item_*` hooks do, and reports a "
            "relation read on each item that the query did not load: `item.author`, "
            "`item.tags.all()`, `for c in item.comments`, a property or method of the model that "
            "reads one (`item.byline`, `item.label()`), a function of the module or of another module of "
            "the project that reads one of the item passed to it (`label(item)`, reported at the call), a "
            "related collection of an object a helper returns for the model it is given "
            "(`task = get_owned(session, Task, pk)`, then `task.comments`), a chain (`review.book.author` is one "
            'finding with `select_related("book__author")`). Which attributes are relations, and '
            "how each loads (`lazy=`), comes from the project index: every model of the project, "
            "read from source (never imported) across modules, cached by content. It reads "
            "`select_related`, `prefetch_related`, `Prefetch(to_attr=)`, `joinedload`, "
            "`selectinload`, `subqueryload`, `contains_eager` and `raiseload`, including nested "
            "paths, and eager `lazy=` strategies where the relation is declared. A relation the loop "
            "assigns before reading it is not a load; `*_id` attributes never query. For a model "
            "the index does not know, only what syntax alone shows to be a relation is reported. "
            "A SQLAlchemy many-to-one is medium: the identity map serves targets already loaded, so "
            "the cost is one query per distinct target. Loops over items a client sent (rows of a "
            "query filtered by request data) are medium too. A model's method that reads a relation of "
            "each item of its own collection (`[s.exercise for s in self.setting_set.all()]`) is low: one "
            "object's collection is often short, and whoever loaded the object may have prefetched it. "
            "Test modules are not checked."
        ),
        why_bad=(
            "The query loads N rows, then each item triggers one more query for its "
            "relation: N+1 statements instead of one or two. It is invisible with test "
            "data and slow in production."
        ),
        fix_steps=(
            'Django: add `select_related("author")` for a foreign key or one-to-one, '
            '`prefetch_related("tags")` for reverse and many-to-many relations.',
            "SQLAlchemy/SQLModel/Flask-SQLAlchemy: add `.options(joinedload(Model.rel))` "
            "for a many-to-one, `.options(selectinload(Model.rel))` for a collection.",
            'Nested relations chain: `select_related("book__publisher")`, `selectinload(A.b).joinedload(B.c)`.',
        ),
        how_to_test=(
            "Run the code with 2 and with 10 rows and assert the statement count does not "
            "change (`assertNumQueries`, `django_assert_num_queries`, or a SQLAlchemy "
            "`before_cursor_execute` listener)."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
        ),
    ),
    bad_example="""\
from library.models import Book


def catalogue():
    return [f"{b.title} by {b.author.name}" for b in Book.objects.order_by("title")]
""",
    good_example="""\
from library.models import Book


def catalogue():
    books = Book.objects.select_related("author").order_by("title")
    return [f"{b.title} by {b.author.name}" for b in books]
""",
    more_examples=(
        Example(
            framework=Framework.SQLALCHEMY,
            bad="""\
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    comments: Mapped[list["Comment"]] = relationship(back_populates="post")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    post: Mapped[Post] = relationship(back_populates="comments")


def comment_counts(session: Session):
    return {post.title: len(post.comments) for post in session.scalars(select(Post))}
""",
            good="""\
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    comments: Mapped[list["Comment"]] = relationship(back_populates="post")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    post: Mapped[Post] = relationship(back_populates="comments")


def comment_counts(session: Session):
    posts = session.scalars(select(Post).options(selectinload(Post.comments)))
    return {post.title: len(post.comments) for post in posts}
""",
        ),
    ),
)

UNBOUNDED_ALL_IN_ENDPOINT = Rule(
    code="ORM103",
    name="unbounded-all-in-endpoint",
    problem="unbounded_query",
    category=Category.PERFORMANCE,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="A list endpoint returns every row of a table: no limit, slice or pagination.",
    message="{call} returns every matching row{origin}{scale}; {advice}",
    message_defaults={"origin": " with no limit", "scale": "", "advice": "paginate it or add a limit"},
    docs=Docs(
        what_it_does=(
            "In list endpoints (Django views, Flask routes, FastAPI-style route decorators, "
            'Pyramid `@view_config`, bare imported route decorators such as `@get("/items")`, '
            "`ListView` without `paginate_by`, DRF list views with `pagination_class = None`) "
            "reports a whole-table `.all()`, `scalars().all()`, `exec().all()` or "
            "`Model.query.all()` that no `.limit()`, slice, `Paginator`, `paginate()` or `LIMIT` "
            "bounds, when its rows reach the response: returned, serialised, put in a template "
            "context, or copied into the returned list by a loop. Rows that only feed a count, an "
            "`exists()`, an aggregate or a narrowing `filter()`/`get()` are not reported. DRF list "
            "views that do not opt out of pagination are left alone: the project's "
            "`DEFAULT_PAGINATION_CLASS` may page them. One user's rows (`filter(owner=request.user)`, "
            "also through a list of conditions or the parameters of a SQL text) and a table that stays "
            "small (a lookup or configuration table: no foreign key, no account columns, and named for "
            "settings, or no column saying when a row came, or named and shaped like a short list) are "
            "reported at low, and the message says why. So is a model whose declaration shows no sign of "
            "growing with use: no account (credentials, Django's user), no owner (`user`, `owner`, "
            "`author`, ... foreign key), no column recording when each row arrived (`created_at`, "
            "`posted_on`, `timestamp`, ...) and no parent row in a table that shows one of these: its size is "
            "unknown. Anywhere, not only in endpoints: `Paginator(list(queryset))` (or `sorted(...)`, "
            "`tuple(...)` of a query) loads every row for the paginator to keep one page; hand it the query."
        ),
        why_bad=(
            "The response grows with the table. What returns 20 rows today returns "
            "200,000 next year: memory, serialization time and the database all pay, "
            "and one request can take the service down."
        ),
        fix_steps=(
            "Read the page size and page number from the request, with a maximum.",
            "Django: `Paginator(qs, per_page)` or `qs[:limit]`; DRF: a pagination class.",
            "SQLAlchemy: `.limit(n).offset(m)` or keyset pagination; Flask-SQLAlchemy: `db.paginate(stmt)`.",
        ),
        how_to_test=(
            "Seed more rows than the page size and assert the endpoint returns at most "
            "one page; assert the SQL sent carries `LIMIT`."
        ),
        references=("https://docs.djangoproject.com/en/stable/topics/pagination/",),
    ),
    bad_example="""\
from django.http import JsonResponse

from library.models import Publisher


def publisher_list(request):
    publishers = Publisher.objects.all()
    return JsonResponse({"results": [{"name": p.name} for p in publishers]})
""",
    good_example="""\
from django.core.paginator import Paginator
from django.http import JsonResponse

from library.models import Publisher


def publisher_list(request):
    page = Paginator(Publisher.objects.order_by("name").all(), 50).get_page(request.GET.get("page"))
    return JsonResponse({"results": [{"name": p.name} for p in page.object_list]})
""",
    more_examples=(
        Example(
            framework=Framework.SQLALCHEMY,
            bad="""\
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db import get_session
from shop.models import Product

router = APIRouter()


@router.get("/products")
def list_products(session: Session = Depends(get_session)):
    products = session.scalars(select(Product)).all()
    return [{"name": p.name} for p in products]
""",
            good="""\
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db import get_session
from shop.models import Product

router = APIRouter()


@router.get("/products")
def list_products(page: int = 1, session: Session = Depends(get_session)):
    query = select(Product).order_by(Product.id).limit(50).offset((page - 1) * 50)
    return [{"name": p.name} for p in session.scalars(query).all()]
""",
        ),
    ),
    example_filename="views.py",
)

LEN_OF_QUERYSET = Rule(
    code="ORM104",
    name="len-of-queryset",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=(Framework.DJANGO, Framework.SQLALCHEMY, Framework.FLASK_SQLALCHEMY),
    engine=Engine.FLAKE8,
    summary="`len()` of a queryset loads every row just to count them.",
    message="len({name}) loads every row to count them; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports `len(qs)` where `qs` is a lazy query (a Django QuerySet or a legacy "
            "`Query`) built in the same function and not iterated afterwards."
        ),
        why_bad=(
            "`len()` fetches and builds every object, then throws them away. "
            "`count()` sends `SELECT COUNT(*)` and returns one number."
        ),
        fix_steps=("Replace `len(qs)` with `qs.count()`.",),
        how_to_test="Assert the statement sent is a `COUNT(*)` and no rows are fetched.",
        references=("https://docs.djangoproject.com/en/stable/ref/models/querysets/#count",),
    ),
    bad_example="""\
from library.models import Loan


def open_loans(member):
    loans = Loan.objects.filter(member=member, returned_at=None)
    return len(loans)
""",
    good_example="""\
from library.models import Loan


def open_loans(member):
    return Loan.objects.filter(member=member, returned_at=None).count()
""",
)

QUERYSET_TRUTHINESS = Rule(
    code="ORM105",
    name="queryset-truthiness",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=(Framework.DJANGO,),
    engine=Engine.FLAKE8,
    summary="`if qs:` / `bool(qs)` loads the rows just to learn whether there is one.",
    message="testing {name} for truth loads its rows; use {name}.exists()",
    docs=Docs(
        what_it_does=(
            "Reports `if qs:`, `not qs`, `bool(qs)` and `while qs:` on a lazy Django "
            "QuerySet built in the same function whose rows are not used afterwards."
        ),
        why_bad=(
            "The truth test evaluates the whole queryset. `exists()` asks the database "
            "for at most one row (`SELECT 1 ... LIMIT 1`)."
        ),
        fix_steps=(
            "Replace `if qs:` with `if qs.exists():`.",
            "Keep `if qs:` only when the rows are used right after: then it fills the cache.",
        ),
        how_to_test="Assert the statement sent carries `LIMIT 1`.",
        references=("https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists",),
    ),
    bad_example="""\
from library.models import Loan


def has_overdue(member):
    overdue = Loan.objects.filter(member=member, overdue=True)
    if overdue:
        return True
    return False
""",
    good_example="""\
from library.models import Loan


def has_overdue(member):
    return Loan.objects.filter(member=member, overdue=True).exists()
""",
)

COUNT_COMPARED_TO_ZERO = Rule(
    code="ORM106",
    name="count-compared-to-zero",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=(Framework.DJANGO, Framework.SQLALCHEMY, Framework.FLASK_SQLALCHEMY),
    engine=Engine.FLAKE8,
    summary="`qs.count() > 0` counts every matching row to answer a yes/no question.",
    message="{expr} counts every matching row; use exists()",
    docs=Docs(
        what_it_does=(
            "Reports `qs.count()` compared with 0 or 1 (`> 0`, `!= 0`, `== 0`, `>= 1`, `< 1`) on a query chain. "
            "A Django filter by equality on a unique column set is left alone: it matches one row at most, "
            "and counting it costs what `exists()` costs."
        ),
        why_bad=("`COUNT(*)` has to visit every matching row; `EXISTS` stops at the first one."),
        fix_steps=(
            "Django: `qs.exists()` / `not qs.exists()`.",
            "SQLAlchemy: `session.scalar(select(exists().where(...)))` or `query.first() is not None`.",
        ),
        how_to_test="Assert the statement sent is an `EXISTS` or carries `LIMIT 1`.",
        references=("https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists",),
    ),
    bad_example="""\
from library.models import Loan


def has_loans(member):
    return Loan.objects.filter(member=member).count() > 0
""",
    good_example="""\
from library.models import Loan


def has_loans(member):
    return Loan.objects.filter(member=member).exists()
""",
)

INDEX_INTO_EVALUATED_QUERY = Rule(
    code="ORM107",
    name="index-into-evaluated-query",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="`list(qs)[0]` / `query.all()[0]` loads every row to use the first.",
    message="{expr} loads every row to use one; use first()",
    docs=Docs(
        what_it_does=(
            "Reports `list(qs)[0]`, `qs.all()[0]` on a legacy `Query` or a "
            "`scalars(...).all()`/`exec(...).all()` result, indexed with a constant."
        ),
        why_bad=(
            "The whole result set is fetched and turned into objects, then all but one "
            "are discarded. `first()` adds `LIMIT 1`."
        ),
        fix_steps=(
            "Django: `qs.first()` (or `qs[0]`, which adds `LIMIT 1` on a QuerySet).",
            "SQLAlchemy: `session.scalars(stmt).first()` or `.limit(1)`.",
        ),
        how_to_test="Assert the statement sent carries `LIMIT 1`.",
        references=("https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Result.first",),
    ),
    bad_example="""\
from library.models import Book


def newest_book():
    return list(Book.objects.order_by("-published"))[0]
""",
    good_example="""\
from library.models import Book


def newest_book():
    return Book.objects.order_by("-published").first()
""",
)

RANDOM_ORDERING = Rule(
    code="ORM108",
    name="random-ordering",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary='`order_by("?")` / `order_by(func.random())` sorts the whole table randomly.',
    message="{expr} makes the database sort the whole table randomly; pick random ids instead",
    docs=Docs(
        what_it_does=(
            'Reports `order_by("?")` (Django) and `order_by(func.random())` / `order_by(func.rand())` (SQLAlchemy).'
        ),
        why_bad=(
            "The database must read every row, give each a random key and sort them all, "
            "even to return one row. It gets slower with every row added."
        ),
        fix_steps=(
            "Count the rows (or read the id range) and pick random offsets or ids.",
            "Or sample with `TABLESAMPLE` on PostgreSQL.",
        ),
        how_to_test="Check `EXPLAIN` no longer shows a sort over the whole table.",
        references=("https://docs.djangoproject.com/en/stable/ref/models/querysets/#order-by",),
    ),
    bad_example="""\
from library.models import Book


def book_of_the_day():
    return Book.objects.order_by("?").first()
""",
    good_example="""\
import random

from library.models import Book


def book_of_the_day():
    ids = list(Book.objects.values_list("id", flat=True))
    return Book.objects.get(id=random.choice(ids)) if ids else None
""",
)

LAZY_LOAD_PER_ITEM = Rule(
    code="ORM110",
    name="lazy-load-per-item",
    problem="n_plus_one",
    category=Category.PERFORMANCE,
    severity=Severity.HIGH,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.MYPY,
    summary="The model types show a relation lazily loaded once per item of a loop (N+1).",
    message="{access} is lazily loaded once per item of this loop ({kind}); {fix}",
    docs=Docs(
        what_it_does=(
            "The mypy plugin knows from the model types which attribute is a relationship, "
            "a foreign key, a reverse manager or a many-to-many manager (SQLAlchemy "
            "`relationship()`, SQLModel `Relationship()`, Flask-SQLAlchemy `db.relationship`, "
            "Django `ForeignKey`/`OneToOneField`/`ManyToManyField` and reverse managers). It "
            "reports such an attribute read on the item of a `for`/`while` loop or a "
            "comprehension when the iterated query did not eager-load it and the relationship "
            'is not declared eager (`lazy="selectin"`, `"joined"`, `"subquery"`). '
            "It follows the query back through local variables and method chains, into "
            "collections of a single object (`for line in order.lines: line.product`) and "
            'nested paths (`select_related("book__publisher")`, '
            "`selectinload(A.b).joinedload(B.c)`). When the loop iterates something whose "
            "loading it cannot see (a parameter, a helper's result), it stays silent."
        ),
        why_bad=(
            "Every item triggers one more SELECT for its relation: N+1 statements for N rows. "
            "Unlike the syntax-level rule (ORM102), this rule does not guess: the types say "
            "the attribute is a relation."
        ),
        fix_steps=(
            "Eager-load the relation in the query that produces the items: "
            "`select_related`/`prefetch_related` (Django), `.options(joinedload(...))` for a "
            "many-to-one or `.options(selectinload(...))` for a collection (SQLAlchemy).",
            'Or, when the relation is always needed, declare it eager on the model: `relationship(lazy="selectin")`.',
            "For a relation of a single object's collection, chain the loader: "
            "`selectinload(Order.lines).joinedload(OrderLine.product)`.",
        ),
        how_to_test=(
            "Run the code with 2 and with 10 rows and assert the statement count does not "
            "change (`assertNumQueries`, `django_assert_num_queries`, or a SQLAlchemy "
            "`before_cursor_execute` listener)."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related",
        ),
    ),
    bad_example="""\
from __future__ import annotations

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[Customer] = relationship()


def customer_names(session: Session) -> list[str]:
    return [order.customer.name for order in session.scalars(select(Order))]
""",
    good_example="""\
from __future__ import annotations

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[Customer] = relationship()


def customer_names(session: Session) -> list[str]:
    stmt = select(Order).options(joinedload(Order.customer))
    return [order.customer.name for order in session.scalars(stmt)]
""",
)

DEFERRED_COLUMN_PER_ITEM = Rule(
    code="ORM111",
    name="deferred-column-per-item",
    problem="n_plus_one",
    category=Category.PERFORMANCE,
    severity=Severity.MEDIUM,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.MYPY,
    summary="A column the query deferred is read once per loop item: one more SELECT each time.",
    message="{access} was deferred by the query ({how}) and is loaded once per item of this loop; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports reading a column inside a loop over a query that left it out: Django "
            '`.only(...)` without the field or `.defer("field")`; SQLAlchemy '
            "`.options(load_only(...))` without the column, `.options(defer(Model.col))`, or a "
            "column declared `deferred(...)` / `mapped_column(deferred=True)` that the query "
            "did not `undefer()`."
        ),
        why_bad=(
            "A deferred column is fetched with its own SELECT the first time it is read, one "
            "object at a time: the optimisation that was meant to make the query lighter "
            "turns into N extra round trips."
        ),
        fix_steps=(
            "Add the field to `.only(...)` (Django) or `load_only(...)` (SQLAlchemy), or remove it from `.defer(...)`.",
            "For a column deferred on the model, add `.options(undefer(Model.col))` to this query.",
        ),
        how_to_test=(
            "Count the statements with 2 and with 10 rows (`assertNumQueries`, "
            "`django_assert_num_queries`, or a SQLAlchemy `before_cursor_execute` listener)."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#only",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/columns.html#column-deferral",
        ),
    ),
    bad_example="""\
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, load_only, mapped_column


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    body: Mapped[str]


def teasers(session: Session) -> list[str]:
    stmt = select(Article).options(load_only(Article.title))
    return [a.title + a.body[:80] for a in session.scalars(stmt)]
""",
    good_example="""\
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, load_only, mapped_column


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    body: Mapped[str]


def teasers(session: Session) -> list[str]:
    stmt = select(Article).options(load_only(Article.title, Article.body))
    return [a.title + a.body[:80] for a in session.scalars(stmt)]
""",
)

FETCHED_ROWS_TRUTHINESS = Rule(
    code="ORM109",
    name="fetched-rows-truthiness",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="`if session.scalars(stmt).all():` fetches every row to learn whether there is one.",
    message="testing {expr} for truth fetches every row; {fix}",
    docs=Docs(
        what_it_does=(
            "The SQLAlchemy side of ORM105: reports `if query.all():`, `not Model.query.filter_by(...).all()`, "
            "`bool(session.scalars(stmt).all())`, `while ...all():` and a local bound to such a result "
            "that is only tested (never iterated or indexed) afterwards. Queries limited to a few rows "
            "(`limit()`, a primary-key or `in_()` filter) are not reported."
        ),
        why_bad=(
            "`.all()` sends the whole statement, turns every matching row into an object and keeps them "
            "in the session, only for the list to be tested for emptiness. `exists()` (or `.first()`) "
            "asks the database for one row."
        ),
        fix_steps=(
            "`session.scalar(select(exists().where(...)))` or `session.query(q.exists()).scalar()`.",
            "Or `session.scalars(stmt.limit(1)).first() is not None` / `query.first() is not None`.",
            "Keep `.all()` when the rows are used right after the test.",
        ),
        how_to_test="Log the statements (`echo=True` or an event listener) and assert the test sends `EXISTS` or `LIMIT 1`.",
        references=("https://docs.sqlalchemy.org/en/20/core/selectable.html#sqlalchemy.sql.expression.exists",),
    ),
    bad_example="""\
from sqlalchemy import select

from shop.models import Order


def has_open_orders(session, customer_id):
    if session.scalars(select(Order).where(Order.customer_id == customer_id)).all():
        return True
    return False
""",
    good_example="""\
from sqlalchemy import exists, select

from shop.models import Order


def has_open_orders(session, customer_id):
    return session.scalar(select(exists().where(Order.customer_id == customer_id)))
""",
)

WHOLE_ROWS_FOR_ONE_COLUMN = Rule(
    code="ORM112",
    name="whole-rows-for-one-column",
    problem="queryset_evaluation",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=ALL_FRAMEWORKS,
    engine=Engine.FLAKE8,
    summary="`[u.id for u in User.objects.filter(...)]` loads whole objects to read one or two columns.",
    message="{expr} loads whole {model} rows to read {columns}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports a list, set or dict comprehension or generator over a query of a model (Django "
            "queryset, `session.scalars(select(Model))`, `Model.query`) whose result and conditions read "
            "only one or two columns of each item (`u.id`, `(u.id, u.email)`) of a model with at least "
            "four more columns than that. The columns must be "
            "declared columns of the model in the project index: a property, a method, a relation or a "
            "column whose value is used further (`i.image.url`, which `values_list()` would not give) "
            "keeps it silent, and so does a query that already uses `only()`, `values()`, "
            "`load_only()` or selects columns."
        ),
        why_bad=(
            "Every column of every row is sent, decoded and turned into a model instance (with its "
            "identity-map entry in SQLAlchemy) to keep one value: for a wide table or many rows that is "
            "most of the time and memory the statement costs. Selecting the column sends one value per row."
        ),
        fix_steps=(
            'Django: `list(qs.values_list("id", flat=True))`, or `values_list("id", "email")` for two.',
            "SQLAlchemy: `session.scalars(select(User.id).where(...)).all()`, or "
            "`session.execute(select(User.id, User.email)...)` for two.",
        ),
        how_to_test="Assert the SQL sent names only the selected columns (`str(stmt)`, or `qs.query` in Django).",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#values-list",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html#selecting-orm-entities-and-attributes",
        ),
    ),
    bad_example="""\
from django.db import models


class Member(models.Model):
    email = models.EmailField()
    name = models.CharField(max_length=200)
    address = models.TextField()
    joined = models.DateTimeField()
    active = models.BooleanField(default=True)


def active_emails():
    return [m.email for m in Member.objects.filter(active=True)]
""",
    good_example="""\
from django.db import models


class Member(models.Model):
    email = models.EmailField()
    name = models.CharField(max_length=200)
    address = models.TextField()
    joined = models.DateTimeField()
    active = models.BooleanField(default=True)


def active_emails():
    return list(Member.objects.filter(active=True).values_list("email", flat=True))
""",
)

CONNECTION_PER_REQUEST = Rule(
    code="ORM113",
    name="connection-per-request",
    problem="connection_per_request",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=(Framework.DJANGO,),
    engine=Engine.FLAKE8,
    summary="A Django `DATABASES` entry without `CONN_MAX_AGE`: a new database connection for every request.",
    message="database {alias} has no CONN_MAX_AGE, so Django connects anew for every request; {fix}",
    docs=Docs(
        what_it_does=(
            "Reads the `DATABASES` setting of a Django settings module, written as a dict literal, and "
            "reports an entry for a server database (PostgreSQL, MySQL, Oracle, ...) that sets no "
            "`CONN_MAX_AGE` or sets it to 0. SQLite entries, settings built by a function call "
            "(`dj_database_url.config(conn_max_age=...)` is read for its keyword), and modules that set "
            '`CONN_MAX_AGE` anywhere else (`DATABASES["default"]["CONN_MAX_AGE"] = 60`) stay silent, '
            "and so do settings for development, tests and CI (a module or folder named `dev*`, `local`, "
            "`test`, `ci`, `github`, `travis`). A base module whose `DATABASES` the environment modules "
            "beside it replace (`from .base import *` then `DATABASES = ...`, or django-split-settings "
            "including it first) is left to them: their entries are the ones that run."
        ),
        why_bad=(
            "Django's default, `CONN_MAX_AGE = 0`, closes the connection at the end of each request, so "
            "every request pays a new TCP connection, authentication and, with TLS, a handshake before "
            "its first query: often more than the queries themselves, and a load on the database server."
        ),
        fix_steps=(
            'Set `"CONN_MAX_AGE": 60` (seconds) in the entry, or `None` for unlimited persistent connections.',
            'Add `"CONN_HEALTH_CHECKS": True` (Django 4.1+) so a broken persistent connection is replaced.',
            "Behind PgBouncer in transaction mode keep 0 and say so in a comment, with `# noqa: ORM113`.",
        ),
        how_to_test=(
            "Assert `connection.settings_dict['CONN_MAX_AGE']` is not 0 in a settings test, or watch the "
            "database's connection count while issuing requests."
        ),
        references=("https://docs.djangoproject.com/en/stable/ref/databases/#persistent-connections",),
    ),
    bad_example="""\
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
    }
}
""",
    good_example="""\
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
""",
)

ENGINE_WITHOUT_POOL_PRE_PING = Rule(
    code="ORM114",
    name="engine-without-pool-pre-ping",
    problem="stale_connection",
    category=Category.PERFORMANCE,
    severity=Severity.LOW,
    frameworks=SQLALCHEMY_FAMILY,
    engine=Engine.FLAKE8,
    summary="A SQLAlchemy engine for a server database without `pool_pre_ping`: a stale pooled connection fails a request.",
    message="{engine} pools connections to a server database without pool_pre_ping; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports `create_engine(...)` and `create_async_engine(...)` calls of SQLAlchemy (and SQLModel) whose "
            "URL names a server database (PostgreSQL, MySQL, MariaDB, Oracle, SQL Server, CockroachDB) or "
            "cannot be seen (`create_engine(settings.DATABASE_URL)`), and a Flask-SQLAlchemy configuration "
            "(`SQLALCHEMY_DATABASE_URI` in a module, a config class or `app.config[...]`) whose "
            "`SQLALCHEMY_ENGINE_OPTIONS` lacks `pool_pre_ping`. One finding per engine. Silent for SQLite and "
            "other visible non-server URLs (also an environment lookup whose fallback is SQLite), for pools that "
            "keep nothing between checkouts (`poolclass=NullPool`, `StaticPool`), when `pool_recycle`, "
            "`creator` or `**options` is passed, when the module names `pool_pre_ping` anywhere, and in tests, "
            "development or CI settings, migrations (`env.py`) and scripts, which live too briefly for a "
            "pooled connection to go stale. ORM113 is the Django side of connection settings."
        ),
        why_bad=(
            "The pool hands out connections it opened minutes or hours ago. When the database restarts, fails "
            "over, or a proxy or firewall drops idle connections, the next request that checks one out fails "
            "with `OperationalError: server closed the connection unexpectedly` (or MySQL's `gone away`), and "
            "every pooled connection fails once in turn. `pool_pre_ping=True` tests each connection on "
            "checkout (a cheap round trip) and replaces a dead one transparently."
        ),
        fix_steps=(
            "Pass `pool_pre_ping=True` to `create_engine()` / `create_async_engine()`.",
            'Flask-SQLAlchemy: `SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}`.',
            "Where a round trip per checkout is too dear, set `pool_recycle` below the server's idle timeout "
            "and handle disconnects in the caller instead (the optimistic approach).",
        ),
        how_to_test=(
            "Restart the database (or kill the backend with `pg_terminate_backend`) between two requests in a "
            "staging environment: the second request must succeed."
        ),
        references=("https://docs.sqlalchemy.org/en/20/core/pooling.html#disconnect-handling-pessimistic",),
    ),
    bad_example="""\
from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg://app@db/shop", pool_size=10)
""",
    good_example="""\
from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg://app@db/shop", pool_size=10, pool_pre_ping=True)
""",
)

RULES = (
    QUERY_IN_LOOP,
    RELATION_LOADED_PER_ITEM,
    UNBOUNDED_ALL_IN_ENDPOINT,
    LEN_OF_QUERYSET,
    QUERYSET_TRUTHINESS,
    COUNT_COMPARED_TO_ZERO,
    INDEX_INTO_EVALUATED_QUERY,
    RANDOM_ORDERING,
    FETCHED_ROWS_TRUTHINESS,
    CONNECTION_PER_REQUEST,
    ENGINE_WITHOUT_POOL_PRE_PING,
    LAZY_LOAD_PER_ITEM,
    DEFERRED_COLUMN_PER_ITEM,
    WHOLE_ROWS_FOR_ONE_COLUMN,
)
