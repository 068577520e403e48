"""Lookups that expect one row, judged against models declared in another package (the project index).

Each case is a small project on disk and real flake8 on the one file with the lookup, so whether the
column is unique can only come from the index of the whole project; editing the model changes the finding.
"""

from __future__ import annotations

import os
from pathlib import Path

from test_project_index import flake8, write_project

DJANGO_MODELS = """\
from django.db import models


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Member(TimeStamped):
    email = models.EmailField()
    handle = models.SlugField(unique=True)
    club = models.ForeignKey("Club", on_delete=models.CASCADE)
    number = models.IntegerField()

    class Meta:
        unique_together = [("club", "number")]


class Guest(Member):
    sponsor = models.CharField(max_length=100)
"""
DJANGO_VIEWS = """\
from clubs.models import Guest, Member


def by_email(email):
    return Member.objects.get(email=email)  # error: ORM303


def by_sponsor(name):
    return Guest.objects.get(sponsor=name)  # error: ORM303


def unique_ones(handle, club, number):
    return (
        Member.objects.get(handle=handle),
        Member.objects.get(club_id=club, number=number),
        Guest.objects.get(handle=handle),
        Member.objects.get(created=None, pk=1),
    )
"""
SQLALCHEMY_MODELS = """\
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Seat(Base):
    __tablename__ = "seats"
    id: Mapped[int] = mapped_column(primary_key=True)
    row: Mapped[str] = mapped_column(String(2))
    number: Mapped[int]
    __table_args__ = (UniqueConstraint("row", "number"),)
"""
SQLALCHEMY_QUERIES = """\
from sqlalchemy import select

from venue.models import Seat


def seat(session, row, number):
    return session.scalars(select(Seat).where(Seat.row == row, Seat.number == number)).one()


def first_in_row(session, row):
    return session.scalars(select(Seat).where(Seat.row == row)).one()  # error: ORM303
"""


def _lines(found: list[tuple[int, str]], code: str) -> list[int]:
    return [line for line, message in found if message.startswith(code)]


def _marked(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if "# error: ORM303" in line]


def test_django_models_in_another_package(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"clubs/models.py": DJANGO_MODELS, "site/views.py": DJANGO_VIEWS})
    found = flake8(root, "site/views.py", tmp_path / "cache")
    assert _lines(found, "ORM303") == _marked(DJANGO_VIEWS)
    message = dict(found)[5]
    assert "Member.email" in message and "unique=True" in message and "first()" in message


def test_sqlalchemy_models_in_another_package(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"venue/models.py": SQLALCHEMY_MODELS, "venue/queries.py": SQLALCHEMY_QUERIES})
    found = flake8(root, "venue/queries.py", tmp_path / "cache")
    assert _lines(found, "ORM303") == _marked(SQLALCHEMY_QUERIES)


def test_a_constraint_added_to_the_model_silences_the_lookup(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"clubs/models.py": DJANGO_MODELS, "site/views.py": DJANGO_VIEWS})
    cache = tmp_path / "cache"
    assert 5 in _lines(flake8(root, "site/views.py", cache), "ORM303")
    models = root / "clubs/models.py"
    models.write_text(DJANGO_MODELS.replace("models.EmailField()", "models.EmailField(unique=True)"), encoding="utf-8")
    os.utime(models, ns=(1, 1))  # an mtime far from the cached one, as a later edit has
    assert 5 not in _lines(flake8(root, "site/views.py", cache), "ORM303")


def test_models_outside_the_project_or_unreadable_stay_silent(tmp_path: Path) -> None:
    models = DJANGO_MODELS.replace("class TimeStamped(models.Model):", "class TimeStamped(ThirdPartyModel):")
    root = write_project(tmp_path / "p", {"clubs/models.py": models, "site/views.py": DJANGO_VIEWS})
    assert _lines(flake8(root, "site/views.py", tmp_path / "cache"), "ORM303") == []
    computed = DJANGO_MODELS.replace('unique_together = [("club", "number")]', "unique_together = UNIQUE_FIELDS")
    root = write_project(tmp_path / "q", {"clubs/models.py": computed, "site/views.py": DJANGO_VIEWS})
    assert _lines(flake8(root, "site/views.py", tmp_path / "cache"), "ORM303") == []
