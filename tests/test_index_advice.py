"""Indexes the project's own queries ask for (ORM306), JSON keys filtered without an index (ORM305), and
constraints that exist only in Alembic revisions.

Each case is a small project on disk and real flake8 on the models file: the advice can only come from the
queries of the other files, read by the project index. Lines marked `# error: ORM3xx` must be reported,
every other model (the look-alikes) must stay silent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_project_index import flake8, write_project

DJANGO_MODELS = """\
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Ticket(models.Model):  # error: ORM306
    reference = models.CharField(max_length=20)
    opened = models.DateTimeField()
    desk = models.ForeignKey("Desk", on_delete=models.CASCADE)
    urgent = models.BooleanField(default=False)
    payload = models.JSONField(default=dict)  # error: ORM305


class Desk(models.Model):
    code = models.SlugField()
    city = models.CharField(max_length=50)
    settings = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["city", "code"]), GinIndex(fields=["settings"], name="desk_settings")]


class Visit(models.Model):
    visitor = models.CharField(max_length=100)
    note = models.TextField()
    desk = models.ForeignKey(Desk, on_delete=models.CASCADE)


class TicketType(models.Model):
    label = models.CharField(max_length=30)


class Audit(models.Model):
    action = models.CharField(max_length=30)
"""
DJANGO_VIEWS = """\
from django.shortcuts import get_object_or_404

from desk.models import Audit, Desk, Ticket, TicketType, Visit


def ticket_page(request, reference):
    return get_object_or_404(Ticket, reference=reference)


def ticket_history(request, reference):
    return Ticket.objects.filter(reference=reference).order_by("-opened")


def desk_tickets(request, desk):
    return Ticket.objects.filter(desk=desk, urgent=True).order_by("opened")  # the FK index serves it


def by_desk(request, code, city):
    return Desk.objects.filter(city=city, code=code), Desk.objects.get(code=code)  # composite, slug


def visits(request, text):
    return Visit.objects.filter(note__icontains=text), Visit.objects.filter(pk=1)


def urgent(request):
    return Ticket.objects.filter(urgent=True)  # a boolean alone leads no index


def types(request, label):
    return TicketType.objects.filter(label=label)  # a lookup table


def pro_tickets(request):
    return Ticket.objects.filter(payload__plan="pro"), Desk.objects.filter(settings__theme="dark")


def free_tickets(request):
    return Ticket.objects.filter(payload__plan="free"), Desk.objects.filter(settings__theme="light")


def unread(request):
    return Visit.objects.filter(note__isnull=True), Visit.objects.filter(note="x")  # IS NULL; a text column


def listed(request, desk):
    return Visit.objects.filter(desk__city=desk).order_by("visitor")  # a sort of rows narrowed by a join
"""
DJANGO_ELSEWHERE = {
    # queries the advice never counts: tests, admin, migrations; a lone management command weighs too little
    "desk/tests.py": "from desk.models import Visit\n\nVisit.objects.filter(visitor='x').order_by('note')\n",
    "desk/admin.py": "from desk.models import Visit\n\nVisit.objects.filter(visitor='x')\n",
    "desk/management/commands/purge.py": "from desk.models import Audit\n\nAudit.objects.filter(action='x')\n",
}
SQLALCHEMY_MODELS = """\
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):  # error: ORM306
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    created: Mapped[int]
    profile = mapped_column(JSON)  # error: ORM305
    nickname: Mapped[str | None]
    role: Mapped[str]


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), index=True)
    region: Mapped[str] = mapped_column(String(20))
    __table_args__ = (Index("ix_teams_region_slug", "region", "slug"),)


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
"""
SQLALCHEMY_ROUTES = """\
from fastapi import APIRouter
from sqlalchemy import or_, select

from app.models import Account, Invite, Team

router = APIRouter()


@router.get("/accounts")
def accounts(session, team, since):
    return session.scalars(select(Account).where(Account.team_id == team, Account.created >= since)).all()


@router.get("/account")
def account(session, email):
    return session.scalars(select(Account).where(Account.email == email).order_by(Account.created.desc())).first()


@router.get("/teams")
def teams(session, slug, region):
    return session.query(Team).filter_by(slug=slug).all(), session.scalars(select(Team).where(Team.region == region))


@router.get("/invite")
def invite(session, code):
    return session.scalars(select(Invite).where(Invite.code == code)).one()  # unique in a revision


@router.get("/joined")
def joined(session):
    return session.scalars(select(Account).join(Team, Team.id == Account.team_id).where(Team.id == Account.team_id))


@router.get("/pro")
def pro(session):
    return session.scalars(select(Account).where(Account.profile["plan"].astext == "pro")).all()


@router.get("/free")
def free(session):
    return session.scalars(select(Account).where(Account.profile["plan"].as_string() == "free")).all()


@router.get("/search")
def search(session, nickname, role):
    query = session.query(Account)
    query = query.filter(Account.nickname == nickname)  # adds to conditions made elsewhere
    anonymous = session.query(Account).filter_by(nickname=None)  # IS NULL: most rows
    admins = session.scalars(select(Account).where(Account.role == role))  # a role holds few values
    return query, anonymous, admins


@router.get("/either")
def either(session, nickname):
    return session.scalars(select(Account).where(or_(Account.nickname == nickname, Account.email == nickname)))
"""
ALEMBIC_REVISION = """\
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_unique_constraint("uq_invites_code", "invites", ["code"])
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.create_index("ix_accounts_nothing", ["created"])


def downgrade():
    op.create_index("ix_accounts_email", "accounts", ["email"])
"""


def _marked(text: str, code: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if f"# error: {code}" in line]


def _lines(found: list[tuple[int, str]], code: str) -> list[int]:
    return [line for line, message in found if message.startswith(code)]


def _django(tmp_path: Path) -> Path:
    files = {"desk/models.py": DJANGO_MODELS, "desk/views.py": DJANGO_VIEWS, **DJANGO_ELSEWHERE}
    return write_project(tmp_path / "p", files)


def _sqlalchemy(tmp_path: Path) -> Path:
    files = {
        "app/models.py": SQLALCHEMY_MODELS,
        "app/routes.py": SQLALCHEMY_ROUTES,
        "alembic/env.py": "",
        "alembic/versions/0001_codes.py": ALEMBIC_REVISION,
    }
    return write_project(tmp_path / "s", files)


def test_django_queries_ask_for_the_indexes_no_declaration_gives(tmp_path: Path) -> None:
    found = flake8(_django(tmp_path), "desk/models.py", tmp_path / "cache")
    assert _lines(found, "ORM306") == _marked(DJANGO_MODELS, "ORM306")
    assert _lines(found, "ORM305") == _marked(DJANGO_MODELS, "ORM305")
    message = dict(found)[5]
    assert "(reference, opened)" in message and "desk/views.py:7 ticket_page" in message
    assert 'models.Index(fields=["reference", "opened"]' in message.replace("'", '"')
    assert "AddIndexConcurrently" in message
    assert "'plan'" in dict(found)[10] and "KeyTextTransform" in dict(found)[10]


def test_sqlalchemy_queries_and_alembic_revisions(tmp_path: Path) -> None:
    root = _sqlalchemy(tmp_path)
    found = flake8(root, "app/models.py", tmp_path / "cache")
    assert _lines(found, "ORM306") == _marked(SQLALCHEMY_MODELS, "ORM306")
    assert _lines(found, "ORM305") == _marked(SQLALCHEMY_MODELS, "ORM305")
    message = dict(found)[9]
    assert "(email, created)" in message and "postgresql_concurrently=True" in message
    assert "(created)" not in message  # created leads an index a revision made: the range-only site is served
    # the unique constraint exists only in the revision: the lookup by code is unique
    assert _lines(flake8(root, "app/routes.py", tmp_path / "cache"), "ORM303") == []


def test_a_unique_constraint_only_in_downgrade_does_not_count(tmp_path: Path) -> None:
    unique = 'op.create_unique_constraint("uq_invites_code", "invites", ["code"])'
    revision = ALEMBIC_REVISION.replace(unique, "pass").replace("def downgrade():", f"def downgrade():\n    {unique}")
    root = _sqlalchemy(tmp_path)
    (root / "alembic/versions/0001_codes.py").write_text(revision, encoding="utf-8")
    assert _lines(flake8(root, "app/routes.py", tmp_path / "cache"), "ORM303") == [26]


def test_adding_the_index_silences_the_advice(tmp_path: Path) -> None:
    root = _django(tmp_path)
    cache = tmp_path / "cache"
    assert 5 in _lines(flake8(root, "desk/models.py", cache), "ORM306")
    models = root / "desk/models.py"
    models.write_text(DJANGO_MODELS.replace("max_length=20)", "max_length=20, db_index=True)"), encoding="utf-8")
    os.utime(models, ns=(1, 1))
    assert _lines(flake8(root, "desk/models.py", cache), "ORM306") == []


def test_a_query_added_elsewhere_reaches_the_cached_model_finding(tmp_path: Path) -> None:
    root = _django(tmp_path)
    cache = tmp_path / "cache"
    assert 22 not in _lines(flake8(root, "desk/models.py", cache), "ORM306")
    views = root / "desk/views.py"
    views.write_text(DJANGO_VIEWS + "\n\ndef visitor(request, name):\n    return Visit.objects.get(visitor=name)\n")
    os.utime(views, ns=(1, 1))
    assert 22 in _lines(flake8(root, "desk/models.py", cache), "ORM306")


def _orm_lint(root: Path, cache: Path, *args: str) -> str:
    """The real CLI in the project's folder; its standard output."""
    proc = subprocess.run(
        [sys.executable, "-m", "orm_lint", *args, "--no-mypy"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_review_lists_the_indexes_this_code_asks_for(tmp_path: Path) -> None:
    out = tmp_path / "review"
    _orm_lint(_django(tmp_path), tmp_path / "cache", "report", ".", "--output", str(out))
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.md")))
    assert "## Indexes this code asks for" in text
    section = text.split("## Indexes this code asks for", 1)[1]
    assert "Ticket (reference, opened)" in section.replace("`", "")
    assert "desk/views.py:7" in section and "desk/views.py:11" in section
    assert "AddIndexConcurrently" in section


def test_json_output_carries_the_model_and_columns(tmp_path: Path) -> None:
    output = _orm_lint(_django(tmp_path), tmp_path / "cache", "check", "desk/models.py", "--format", "json")
    findings = [f for f in json.loads(output)["findings"] if f["code"] == "ORM306"]
    assert [(f["model"], f["attribute"], f["severity"]) for f in findings] == [
        ("Ticket", "reference, opened", "medium")
    ]


CHAIN_SHAPES = """\
from django.shortcuts import get_object_or_404

from desk.models import Ticket


def continued(status):
    return Ticket.objects.\\
        filter(status=status)


def spaced(desk):
    return Ticket.objects. filter(desk=desk).order_by("-opened")


def shortcut(request, number):
    return get_object_or_404(Ticket, number=number)


def plain(request):
    return {"answer": 42}
"""


def test_query_sites_are_the_same_read_with_the_text_as_without() -> None:
    """The index walks only the statements whose lines name a step a site is recorded for: the sites are the ones a
    walk of every statement finds, whatever the line ends (`\\n`, `\\r\\n`, and old Mac `\\r`, walked in full)."""
    import ast

    from orm_lint.project.query_sites import query_sites

    for ending in ("\n", "\r\n", "\r"):
        text = CHAIN_SHAPES.replace("\n", ending)
        tree = ast.parse(text)
        walked = query_sites(tree, "desk/views.py")
        assert len(walked) == 3
        assert query_sites(tree, "desk/views.py", text.encode()) == walked
