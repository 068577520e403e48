"""The index's list of project files is cached too: an editor's run stats folders instead of walking them.

The cached list is used only while every folder it entered and every ignore file it read is
unchanged; these tests age the project (a listing made within the clock's tick is never kept),
then change it the ways that change the list, and check with real flake8 that the index sees it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from test_project_index import flake8, write_project

MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""
REVIEW_MODELS = """\
from django.db import models

from shelf.models import Book


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
"""
VIEWS = """\
from reviews.models import Review


def reviewed_books():
    return [r.book for r in Review.objects.filter(stars=5)]
"""


def _age(root: Path) -> None:
    """Every file and folder of the project an hour old: its listing can be trusted and kept."""
    past = time.time() - 3600
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (past, past))
        os.utime(folder, (past, past))


def _codes(root: Path, cache: Path) -> list[str]:
    return [message.split()[0] for _, message in flake8(root, "views.py", cache)]


def _listing_kept(cache: Path) -> bool:
    import json

    return all("listing" in json.loads(p.read_text()) for p in (cache / "orm-lint" / "index").rglob("index.json"))


def test_a_model_module_added_after_the_listing_was_kept_is_indexed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", {"shelf/__init__.py": "", "shelf/models.py": MODELS, "views.py": VIEWS})
    cache = tmp_path / "cache"
    _age(root)
    assert _codes(root, cache) == []  # Review is no model of this project yet
    assert _listing_kept(cache)
    (root / "reviews").mkdir()
    (root / "reviews" / "models.py").write_text(REVIEW_MODELS, encoding="utf-8")
    assert _codes(root, cache) == ["ORM102"]


def test_an_ignore_file_edited_in_place_changes_the_listing(tmp_path: Path) -> None:
    files = {
        "shelf/models.py": MODELS,
        "reviews/models.py": REVIEW_MODELS,
        "views.py": VIEWS,
        ".gitignore": "reviews/\n",
    }
    root = write_project(tmp_path / "project", files)
    (root / ".git").mkdir()
    cache = tmp_path / "cache"
    _age(root)
    assert _codes(root, cache) == []  # the ignored app is not the project's
    assert _listing_kept(cache)
    ignore = root / ".gitignore"
    with open(ignore, "w", encoding="utf-8") as handle:  # the same file, rewritten: its folder keeps its mtime
        handle.write("build/\n")
    os.utime(root, (time.time() - 3600, time.time() - 3600))
    assert _codes(root, cache) == ["ORM102"]
