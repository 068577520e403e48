"""The project index: models declared in one module, loops in another, for every framework.

Each test is a small project on disk checked by real flake8 on the one file with the loop
(as an editor does), so the relation can only be known from the index of the whole project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

DJANGO_MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    editor = models.ForeignKey("Author", on_delete=models.CASCADE, related_name="+")

    @property
    def credited(self):
        return self.editor or self.author

    @property
    def byline(self):
        return f"{self.title} by {self.author.name}"

    def label(self):
        return self.title.upper()
"""
DJANGO_VIEWS = """\
from shelf.models import Author, Book


def titles():
    return [(b.title, b.author) for b in Book.objects.filter(title__startswith="A")]  # error: ORM102


def credits():
    return [b.credited.name for b in Book.objects.order_by("title")]  # error: ORM102


def by_author(pk):
    author = Author.objects.get(pk=pk)
    return [b.editor.name for b in author.books.order_by("title")]  # error: ORM102


def through_members():
    return [(b.byline, b.label()) for b in Book.objects.all()]  # error: ORM102


def _editor_line(book):
    return f"{book.title}: {book.editor.name}"


def through_a_helper():
    return [_editor_line(b) for b in Book.objects.filter(title__gt="M")]  # error: ORM102


def loaded():
    books = Book.objects.select_related("author", "editor")
    return [(b.author, b.credited) for b in books] + [b.title for b in Book.objects.all()]
"""
SQLALCHEMY_MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer: Mapped[Customer] = relationship(back_populates="orders", lazy="select")
    lines: Mapped[list["Line"]] = relationship(lazy="selectin")
"""
SQLALCHEMY_QUERIES = """\
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.models import Customer, Order


def names(session):
    return [o.customer.id for o in session.scalars(select(Order))]  # error: ORM102


def eager(session):
    stmt = select(Order).options(joinedload(Order.customer))
    return [(o.customer.id, len(o.lines)) for o in session.scalars(stmt)]


def of_customer(session, pk):
    customer = session.get(Customer, pk)
    return [o.customer.id for o in customer.orders]  # error: ORM102
"""
FLASK_MODELS = """\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    comments = db.relationship("Comment", backref="post")
"""
FLASK_VIEWS = """\
from blog.models import Comment, Post, db


def recent():
    return [c.post.id for c in Comment.query.limit(20).all()]  # error: ORM102


def page():
    pagination = db.paginate(db.select(Post))
    return [len(p.comments) for p in pagination.items]  # error: ORM102
"""
SQLMODEL_MODELS = """\
from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    team: Team | None = Relationship(back_populates="heroes", sa_relationship_kwargs={"lazy": "joined"})
"""
SQLMODEL_API = """\
from sqlmodel import Session, select

from teams.models import Hero, Team


def rosters(session: Session):
    return [[h.id for h in t.heroes] for t in session.exec(select(Team))]  # error: ORM102


def team_names(session: Session):
    return [h.team.id for h in session.exec(select(Hero))]  # joined where declared
"""

PROJECTS = {
    "django": {"shelf/__init__.py": "", "shelf/models.py": DJANGO_MODELS, "shelf/views.py": DJANGO_VIEWS},
    "sqlalchemy": {"shop/__init__.py": "", "shop/models.py": SQLALCHEMY_MODELS, "shop/queries.py": SQLALCHEMY_QUERIES},
    "flask": {"blog/__init__.py": "", "blog/models.py": FLASK_MODELS, "blog/views.py": FLASK_VIEWS},
    "sqlmodel": {"teams/__init__.py": "", "teams/models.py": SQLMODEL_MODELS, "teams/api.py": SQLMODEL_API},
}
LOOP_FILES = {
    "django": "shelf/views.py",
    "sqlalchemy": "shop/queries.py",
    "flask": "blog/views.py",
    "sqlmodel": "teams/api.py",
}


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'example'\n", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def flake8(root: Path, path: str, cache: Path) -> list[tuple[int, str]]:
    """Real flake8 on one file, as an editor runs it; (line, message) of each ORM finding."""
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "ORM", path],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        timeout=300,
    )
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    found = []
    for line in proc.stdout.splitlines():
        _, number, _, message = line.split(":", 3)
        found.append((int(number), message.strip()))
    return found


def marked(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if "# error: ORM102" in line]


@pytest.mark.parametrize("framework", sorted(PROJECTS))
def test_relations_declared_in_another_module(tmp_path: Path, framework: str) -> None:
    root = write_project(tmp_path / "project", PROJECTS[framework])
    loop_file = LOOP_FILES[framework]
    found = flake8(root, loop_file, tmp_path / "cache")
    assert [line for line, message in found if message.startswith("ORM102")] == marked(PROJECTS[framework][loop_file])


def test_messages_name_the_relation_and_the_fix(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", PROJECTS["django"])
    messages = dict(flake8(root, "shelf/views.py", tmp_path / "cache"))
    assert 'select_related("author")' in messages[5]
    assert 'select_related("editor")' in messages[9] and "b.credited" in messages[9]  # the property's relation
    root = write_project(tmp_path / "sqla", PROJECTS["sqlalchemy"])
    messages = dict(flake8(root, "shop/queries.py", tmp_path / "cache"))
    assert "joinedload(Order.customer)" in messages[8]
    assert "selectinload(Customer.orders).joinedload(Order.customer)" in messages[18]


def test_an_edited_model_is_seen_at_once(tmp_path: Path) -> None:
    """The index is cached by content: a changed `lazy=` changes the findings on the next run."""
    root = write_project(tmp_path / "project", PROJECTS["sqlalchemy"])
    cache = tmp_path / "cache"
    assert [line for line, _ in flake8(root, "shop/queries.py", cache)] == [8, 18]
    assert any((cache / "orm-lint" / "index").rglob("index.json"))
    models = root / "shop" / "models.py"
    models.write_text(SQLALCHEMY_MODELS.replace('lazy="select"', 'lazy="joined"'), encoding="utf-8")
    assert flake8(root, "shop/queries.py", cache) == []
    models.write_text(SQLALCHEMY_MODELS, encoding="utf-8")
    os.utime(models, (time.time() + 5, time.time() + 5))
    assert [line for line, _ in flake8(root, "shop/queries.py", cache)] == [8, 18]


def test_the_results_cache_follows_the_models(tmp_path: Path) -> None:
    """`orm-lint check` with its results cache: an unchanged views file is judged again when a model changes."""
    root = write_project(tmp_path / "project", PROJECTS["sqlalchemy"])
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def codes() -> list[int]:
        proc = subprocess.run(
            [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "shop"],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
        )
        return [int(line.split(":")[1]) for line in proc.stdout.splitlines() if "ORM102" in line]

    assert codes() == [8, 18]
    (root / "shop" / "models.py").write_text(SQLALCHEMY_MODELS.replace('lazy="select"', 'lazy="joined"'))
    assert codes() == []


MANAGED_MODELS = """\
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models


class DocumentQuerySet(models.QuerySet):
    def visible(self, user):
        return self.filter(public=True).select_related("current_revision")

    def recent(self):
        return self.order_by("-id")


class Document(models.Model):
    current_revision = models.ForeignKey("Revision", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    objects = DocumentQuerySet.as_manager()


class Watch(models.Model):
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
"""
MANAGED_VIEWS = """\
from wiki.models import Document, Watch


def visible(user):
    return [d.current_revision.id for d in Document.objects.visible(user)]  # loaded by the method


def recent():
    return [d.current_revision.id for d in Document.objects.recent()]  # error: ORM102


def watched():
    return [w.content_object for w in Watch.objects.filter(object_id__gt=0)]  # error: ORM102


def owners():
    return [g.name for d in Document.objects.all() for g in d.owner.groups.all()]  # error: ORM102
"""


def test_custom_querysets_generic_keys_and_contrib_models(tmp_path: Path) -> None:
    files = {"wiki/__init__.py": "", "wiki/models.py": MANAGED_MODELS, "wiki/views.py": MANAGED_VIEWS}
    root = write_project(tmp_path / "project", files)
    found = dict(flake8(root, "wiki/views.py", tmp_path / "cache"))
    assert sorted(found) == marked(MANAGED_VIEWS)
    assert 'prefetch_related("content_object")' in found[13]  # a generic key is loaded ahead only by prefetch


DRF_MODELS = """\
from django.db import models
from sortedm2m.fields import SortedManyToManyField


class Group(models.Model):
    name = models.CharField(max_length=50)


class Repository(models.Model):
    name = models.CharField(max_length=50)
    repository_group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="repositories")
    owner = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    reviewers = SortedManyToManyField(Group, related_name="+")  # a third-party many-to-many
"""
DRF_SERIALIZERS = """\
from rest_framework import serializers

from registry.models import Group, Repository


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["name"]


class RepositorySerializer(serializers.ModelSerializer):
    repository_group = GroupSerializer()
    owner_name = serializers.SerializerMethodField()
    reviewers = GroupSerializer(many=True)

    class Meta:
        model = Repository
        fields = ["name", "repository_group", "owner_name"]

    def get_owner_name(self, obj):
        return obj.owner.name
"""
DRF_VIEWS = """\
from rest_framework import generics, viewsets

from registry import serializers
from registry.models import Repository
from registry.serializers import RepositorySerializer


class RepositoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Repository.objects.filter(name__startswith="a")  # error: ORM102
    serializer_class = serializers.RepositorySerializer


class LoadedRepositoryList(generics.ListAPIView):
    serializer_class = RepositorySerializer

    def get_queryset(self):
        return Repository.objects.select_related("repository_group", "owner").prefetch_related("reviewers")


class RepositoryDetail(generics.RetrieveAPIView):
    queryset = Repository.objects.all()  # one object: nothing per item
    serializer_class = RepositorySerializer


def repositories_named(name):
    repositories = Repository.objects.filter(name=name).select_related("repository_group", "owner")  # error: ORM102
    return serializers.RepositorySerializer(repositories, many=True).data


class LoadedRepositories(viewsets.ViewSet):
    def get_queryset(self):
        if self.request.user.is_anonymous:
            return Repository.objects.none()  # no rows: what it loads does not matter
        return Repository.objects.select_related("repository_group", "owner").prefetch_related("reviewers")

    def list(self, request):
        return RepositorySerializer(self.get_queryset(), many=True).data
"""


def test_a_list_views_serializer_reads_relations_its_queryset_does_not_load(tmp_path: Path) -> None:
    files = {
        "registry/__init__.py": "",
        "registry/models.py": DRF_MODELS,
        "registry/serializers.py": DRF_SERIALIZERS,
        "registry/views.py": DRF_VIEWS,
    }
    root = write_project(tmp_path / "project", files)
    found = flake8(root, "registry/views.py", tmp_path / "cache")
    assert len(found) == 2 and found[1][0] == 26 and 'prefetch_related("reviewers") to the query' in found[1][1]
    assert found[:1] == [
        (
            9,
            "ORM102 RepositorySerializer reading .owner, .repository_group, .reviewers loads a related object once "
            'per item of Repository.objects.filter(...); add select_related("owner", "repository_group") and '
            'prefetch_related("reviewers") to the view\'s queryset',
        )
    ]


FEED = """\
from django.contrib.syndication.views import Feed

from shelf.models import Book


class LatestBooks(Feed):
    title = "New books"

    def items(self):
        return Book.objects.order_by("-id")[:50]  # error: ORM102

    def item_title(self, item):
        return item.title

    def item_author_name(self, item):
        return item.author.name


class LatestLoadedBooks(Feed):
    def items(self):
        return Book.objects.select_related("author").order_by("-id")[:50]

    def item_author_name(self, item):
        return item.author.name
"""


def test_a_feeds_item_hooks_read_relations_its_items_do_not_load(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {**PROJECTS["django"], "shelf/feeds.py": FEED})
    found = flake8(root, "shelf/feeds.py", tmp_path / "cache")
    assert [line for line, _ in found] == marked(FEED)
    assert "LatestBooks.item_* reading .author" in found[0][1] and 'select_related("author")' in found[0][1]


def test_models_are_read_never_imported(tmp_path: Path) -> None:
    """A model module that writes a file when imported stays unrun."""
    marker = tmp_path / "imported"
    models = DJANGO_MODELS + f"\nopen({str(marker)!r}, 'w').close()\n"
    root = write_project(tmp_path / "project", {**PROJECTS["django"], "shelf/models.py": models})
    assert flake8(root, "shelf/views.py", tmp_path / "cache")
    assert not marker.exists()


LOOKUP_MODELS = """\
from django.db import models


class Sport(models.Model):
    label = models.CharField(max_length=50)


class Workout(models.Model):
    sport = models.ForeignKey(Sport, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)


class Member(models.Model):
    name = models.CharField(max_length=50)
    joined_on = models.DateField()


class Queue(models.Model):
    title = models.CharField(max_length=50)
    email_address = models.EmailField()
    default_assignee = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True)


class Note(models.Model):
    owner = models.ForeignKey(Member, on_delete=models.CASCADE)
    text = models.TextField()


class ApiClient(models.Model):
    name = models.CharField(max_length=50)
    secret = models.CharField(max_length=64)


class Attachment(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    name = models.CharField(max_length=50)


class Board(models.Model):
    title = models.CharField(max_length=50)
    last_note = models.ForeignKey(Note, on_delete=models.SET_NULL, null=True)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Tag(TimeStamped):
    label = models.CharField(max_length=20)
"""
LOOKUP_VIEWS = """\
from django.http import JsonResponse

from gym.models import ApiClient, Attachment, Board, Member, Note, Queue, Sport, Tag, Workout


def sports(request):
    return JsonResponse({"sports": [s.label for s in Sport.objects.all()]})


def workouts(request):
    return JsonResponse({"workouts": [w.pk for w in Workout.objects.all()]})


def members(request):
    return JsonResponse({"members": [m.name for m in Member.objects.all()]})


def queues(request):
    return JsonResponse({"queues": [q.title for q in Queue.objects.all()]})


def notes(request):
    return JsonResponse({"notes": [n.text for n in Note.objects.all()]})


def clients(request):
    return JsonResponse({"clients": [c.name for c in ApiClient.objects.all()]})


def attachments(request):
    return JsonResponse({"attachments": [a.name for a in Attachment.objects.all()]})


def boards(request):
    return JsonResponse({"boards": [b.title for b in Board.objects.all()]})


def tags(request):
    return JsonResponse({"tags": [t.label for t in Tag.objects.all()]})
"""


def test_an_unbounded_read_of_a_table_not_shown_to_grow_is_low(tmp_path: Path) -> None:
    """A table with no foreign key and no column saying when a row came stays small: low, and the message says why.
    A table with a foreign key but no owner, account or arrival time is of unknown size: low too, and said;
    rows per owner, accounts, rows that record when they came and the rows of such a row (a note's
    attachments, not a board that points at its latest note) keep medium."""
    files = {"gym/__init__.py": "", "gym/models.py": LOOKUP_MODELS, "gym/views.py": LOOKUP_VIEWS}
    root = write_project(tmp_path / "project", files)
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "--format", "json", "gym/views.py"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=300,
    )
    findings = json.loads(proc.stdout)["findings"]
    severities = {f["line"]: f["severity"] for f in findings if f["code"] == "ORM103"}
    assert severities == {
        7: "low",
        11: "medium",
        15: "medium",
        19: "low",
        23: "medium",
        27: "medium",
        31: "medium",
        35: "low",
        39: "medium",  # Tag: an arrival time from its abstract base
    }
    messages = {f["line"]: f["message"] for f in findings}
    assert "like a lookup table" in messages[7]
    assert "nothing in Queue shows it growing with use: no accounts, owners or arrival times" in messages[19]


def test_two_folders_without_a_project_marker_checked_together(tmp_path: Path) -> None:
    """Each folder is its own project; the file list one run shares with the index stays inside each root."""
    for name in ("one", "two"):
        (tmp_path / name / "shelf").mkdir(parents=True)
        (tmp_path / name / "shelf" / "models.py").write_text(DJANGO_MODELS, encoding="utf-8")
        (tmp_path / name / "shelf" / "views.py").write_text(DJANGO_VIEWS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "--format", "json", "one", "two"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["errors"] == []
    assert {f["path"] for f in data["findings"] if f["code"] == "ORM102"} == {
        "one/shelf/views.py",
        "two/shelf/views.py",
    }


def test_a_foreign_key_indexed_by_an_alembic_revision_is_not_reported(tmp_path: Path) -> None:
    """The model declares no index, but a revision creates one on its table: ORM301 has nothing to ask for."""
    files = {
        "shop/__init__.py": "",
        "shop/models.py": (
            "from sqlalchemy import ForeignKey\n"
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
            "class Base(DeclarativeBase):\n    pass\n\n\n"
            "class Order(Base):\n"
            '    __tablename__ = "orders"\n'
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            '    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))\n'
            '    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))\n'
        ),
        "migrations/versions/1a2b_index_customer.py": (
            "from alembic import op\n\n"
            'revision = "1a2b"\ndown_revision = None\n\n\n'
            "def upgrade():\n"
            '    op.create_index("ix_orders_customer_id", "orders", ["customer_id"],'
            ' postgresql_where="customer_id IS NOT NULL")\n\n\n'
            "def downgrade():\n"
            '    op.drop_index("ix_orders_customer_id", table_name="orders")\n'
        ),
    }
    root = write_project(tmp_path / "project", files)
    found = flake8(root, "shop/models.py", tmp_path / "cache")
    assert [message.split(" is ")[0] for _, message in found] == ["ORM301 Order.coupon_id"]


WORKOUT_MODELS = """\
from django.db import models


class Exercise(models.Model):
    name = models.CharField(max_length=20)


class Set(models.Model):
    order = models.IntegerField()

    @property
    def exercises(self):
        return [s.exercise for s in self.setting_set.all()]  # error: ORM102

    def loaded_exercises(self):
        return [s.exercise for s in self.setting_set.select_related("exercise")]

    def orders(self):
        return [s.reps for s in self.setting_set.all()]

    @staticmethod
    def of(other):
        return [s.exercise for s in other.setting_set.all()]

    @classmethod
    def first_of(cls, first):
        return [s.exercise for s in first.setting_set.all()]


class Setting(models.Model):
    set = models.ForeignKey(Set, on_delete=models.CASCADE)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE)
    reps = models.IntegerField()
"""


def test_a_model_method_reading_relations_of_its_own_collection(tmp_path: Path) -> None:
    """`self.setting_set.all()` in a method of Set, reading each setting's exercise: a query per setting, said at
    low (the set may have a handful, and whoever loaded it may have prefetched them); not when the method loads
    them itself, reads only values, or is a static method whose argument is any object."""
    report = (
        "from django.db import connection\n\n\n"
        "class Set:\n    def exercises(self):\n        return [s.exercise for s in self.setting_set.all()]\n"
    )
    files = {"gym/__init__.py": "", "gym/models.py": WORKOUT_MODELS, "gym/report.py": report}
    root = write_project(tmp_path / "project", files)
    assert flake8(root, "gym/report.py", tmp_path / "cache") == []  # a plain class that shares a model's name
    found = [(line, message) for line, message in flake8(root, "gym/models.py", tmp_path / "cache")]
    assert [line for line, message in found if message.startswith("ORM102")] == marked(WORKOUT_MODELS)
    assert "unless whoever loaded this object prefetched them along" in found[0][1]
    assert 'select_related("exercise") to the query, or prefetch_related("setting_set__exercise")' in found[0][1]
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", "check", "--no-mypy", "--format", "json", "gym/models.py"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=300,
    )
    assert [f["severity"] for f in json.loads(proc.stdout)["findings"]] == ["low"]


TERM_MODELS = """\
from django.db import models


class Term(models.Model):
    text = models.CharField(max_length=50)


class Translation(models.Model):
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=10)
    text = models.CharField(max_length=50)
"""
TERM_SERIALIZERS = """\
from rest_framework import serializers

from glossary.models import Term, Translation


class TermSerializer(serializers.ModelSerializer):
    translation_text = serializers.SerializerMethodField()
    translation_count = serializers.SerializerMethodField()
    french = serializers.SerializerMethodField(method_name="in_french")
    any_translation = serializers.SerializerMethodField()

    class Meta:
        model = Term
        fields = ["text", "translation_text", "translation_count", "french", "any_translation"]

    def get_translation_text(self, obj):
        found = obj.translations.filter(locale=self.context["locale"]).first()  # error: ORM101
        return found.text if found else None

    def get_translation_count(self, obj):
        return obj.translations.count()

    def in_french(self, obj):
        return Translation.objects.filter(term=obj, locale="fr").exists()  # error: ORM101

    def get_any_translation(self, obj):
        return Translation.objects.exists()  # error: ORM101

    def get_unused(self, obj):
        return Translation.objects.filter(term=obj).count()


class GlossarySerializer(serializers.ModelSerializer):
    translations = serializers.SerializerMethodField()

    def get_translations(self, obj):
        return Translation.objects.filter(term=obj).count()  # error: ORM101


class PageSerializer(serializers.ModelSerializer):
    first = serializers.SerializerMethodField()

    def get_first(self, obj):
        return Translation.objects.filter(term=obj).first().text  # error: ORM101


class TermDetailSerializer(serializers.ModelSerializer):
    translation_text = serializers.SerializerMethodField()

    class Meta:
        model = Term
        fields = ["text", "translation_text"]

    def get_translation_text(self, obj):
        return obj.translations.filter(locale="en").first().text
"""
TERM_VIEWS = """\
from django.db.models.functions import Lower
from rest_framework import generics

from glossary.models import Term
from glossary.serializers import GlossarySerializer, PageSerializer, TermDetailSerializer, TermSerializer


def glossary(request):
    terms = Term.objects.filter(text__startswith=request.GET["q"])
    return GlossarySerializer(terms.order_by(Lower("text")), many=True).data  # one paren deep inside


class TermPage(generics.GenericAPIView):
    serializer_class = PageSerializer

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TermList(generics.ListAPIView):
    queryset = Term.objects.prefetch_related("translations")
    serializer_class = TermSerializer


class TermDetail(generics.RetrieveAPIView):
    queryset = Term.objects.all()
    serializer_class = TermDetailSerializer
"""


def test_a_listed_serializers_per_object_methods_that_query(tmp_path: Path) -> None:
    """A serializer a list view, a `many=True` call or `self.get_serializer(page, many=True)` renders runs each
    `SerializerMethodField` method once per object: a query there is one per listed object, reported where it runs.
    Not a count a prefetch of the object's relation may answer, not a `get_` method no field calls, not a serializer
    only a detail view uses."""
    files = {
        "glossary/__init__.py": "",
        "glossary/models.py": TERM_MODELS,
        "glossary/serializers.py": TERM_SERIALIZERS,
        "glossary/views.py": TERM_VIEWS,
    }
    root = write_project(tmp_path / "project", files)
    found = flake8(root, "glossary/serializers.py", tmp_path / "cache")
    marked_lines = [n for n, line in enumerate(TERM_SERIALIZERS.splitlines(), 1) if "# error: ORM101" in line]
    assert [line for line, message in found if message.startswith("ORM101")] == marked_lines
    assert found[0][1] == (
        "ORM101 obj.translations.filter(...).first() runs a query for every object Django REST framework lists with "
        "TermSerializer.get_translation_text (a page of them when the view paginates); load it for every object at "
        "once with the view's queryset (a Prefetch(..., to_attr=...) or an annotate()) and read that here"
    )


def test_growth_is_read_once_per_model_however_dense_the_foreign_keys() -> None:
    """Sixty models, each with foreign keys to the three before it and no sign of growth anywhere: the answer comes
    from one look at each model (a walk of every path between them would not end)."""
    from orm_lint.project.model_facts import ModelFacts, Relation
    from orm_lint.project.table_size import grows_with_use

    models = {}
    for n in range(60):
        relations = {f"part{k}": Relation(target=f"Part{k}", many=False) for k in range(max(0, n - 3), n)}
        models[f"Part{n}"] = ModelFacts(name=f"Part{n}", framework="django", bases=["Model"], relations=relations)
    assert grows_with_use(models["Part59"], models.get) is False
    models["Part0"].columns.append("created_at")
    assert grows_with_use(models["Part59"], models.get) is True
