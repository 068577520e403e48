"""Helpers shared by the benchmark scripts: file discovery, a synthetic tree, statistics, results."""

from __future__ import annotations

import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PYCACHE = Path(tempfile.gettempdir()) / "orm-lint-bench-pycache"


def bytecode_as_installed() -> None:
    """Let the measured processes import from bytecode, as an installed package does.

    `pip install` compiles every module; a development shell with PYTHONDONTWRITEBYTECODE=1 compiles
    orm-lint's ~60 modules from source in every process instead (about 65 ms a start). The bytecode
    goes to a scratch folder (PYTHONPYCACHEPREFIX), never into the working tree; the first, untimed
    run of each benchmark writes it.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)


def discover(tree: Path) -> list[Path]:
    """The files `orm-lint check` would check (its own discovery, so every measurement sees the same set)."""
    from orm_lint.engines import discover as orm_discover

    return [Path(p).resolve() for p in orm_discover([str(tree)], [])]


def read_text(path: Path) -> str:
    """Decode as Python does: PEP 263 cookie or BOM, UTF-8 otherwise (invalid bytes replaced)."""
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, errors="replace")


def tree_stats(files: list[Path]) -> dict[str, int]:
    lines = size = 0
    for path in files:
        data = path.read_bytes()
        size += len(data)
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return {"files": len(files), "lines": lines, "bytes": size}


def summary(samples: list[float]) -> dict[str, object]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def environment() -> dict[str, object]:
    def version(dist: str) -> str | None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return None

    commit = None
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(BENCH_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
            ).stdout.strip()
            or None
        )
        dirty = subprocess.run(
            ["git", "-C", str(BENCH_DIR.parent), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
    except OSError:
        dirty = []
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "orm_lint": version("orm-lint"),
        "orm_lint_commit": commit,
        "orm_lint_src_uncommitted_changes": dirty,  # the editable install measures the working tree
        "flake8": version("flake8"),
        "pycodestyle": version("pycodestyle"),
        "pyflakes": version("pyflakes"),
        "ast_grep_py": version("ast-grep-py"),
    }


def write_results(name: str, data: dict[str, object]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return out


def warm_page_cache(files: list[Path]) -> None:
    for path in files:
        path.read_bytes()


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:9.3f} s"


def fmt_x(value: float | None) -> str:
    return "-" if value is None else f"{value:6.2f}x"


# --------------------------------------------------------------------------------------------
# Synthetic tree: a deterministic mix of Django ORM modules (so orm-lint's checks really run),
# SQLAlchemy modules and plain, database-free modules (which orm-lint should skip quickly).

_DJANGO_MODELS = """\
from django.db import models


class Author{i}(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)

    def __str__(self):
        return self.name


class Book{i}(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author{i}, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField("Tag{i}", blank=True)
    published = models.DateField(null=True)


class Tag{i}(models.Model):
    label = models.CharField(max_length=50)
"""

_DJANGO_VIEWS = """\
from django.db import connection
from django.http import JsonResponse

from app.models{j} import Author{j}, Book{j}


def book_titles_{i}(request):
    books = Book{j}.objects.filter(published__isnull=False)
    data = []
    for book in books:
        data.append({{"title": book.title, "author": book.author.name}})
    return JsonResponse({{"books": data}})


def random_books_{i}(request):
    return list(Book{j}.objects.order_by("?")[:5])


def author_count_{i}(request, name):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM app_author WHERE name = '{{name}}'")
        row = cursor.fetchone()
    return JsonResponse({{"count": row[0]}})


def touch_all_{i}(request):
    for author in Author{j}.objects.all():
        author.email = author.email.lower()
        author.save()
    return JsonResponse({{"ok": True}})


def by_tag_{i}(request, tag):
    result = []
    for book in Book{j}.objects.all():
        if book.tags.filter(label=tag).exists():
            result.append(book.pk)
    return JsonResponse({{"ids": result}})
"""

_SQLALCHEMY = """\
from sqlalchemy import Column, ForeignKey, Integer, String, func, select, text
from sqlalchemy.orm import DeclarativeBase, Session, relationship


class Base{i}(DeclarativeBase):
    pass


class User{i}(Base{i}):
    __tablename__ = "users_{i}"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
    addresses = relationship("Address{i}", back_populates="user")


class Address{i}(Base{i}):
    __tablename__ = "addresses_{i}"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users_{i}.id"))
    user = relationship(User{i}, back_populates="addresses")


def emails_{i}(session: Session, name: str):
    rows = session.execute(text(f"SELECT * FROM users_{i} WHERE name = '{{name}}'"))
    out = []
    for user in session.scalars(select(User{i})):
        out.extend(a.id for a in user.addresses)
    return rows, out


def shuffled_{i}(session: Session):
    return session.scalars(select(User{i}).order_by(func.random())).all()
"""

_PLAIN = '''\
"""Utility module {i}: no database code."""

import itertools
import re
from dataclasses import dataclass

_WORD = re.compile(r"\\w+")


@dataclass
class Token{i}:
    text: str
    position: int


def tokenize_{i}(text: str) -> list[Token{i}]:
    return [Token{i}(m.group(0), m.start()) for m in _WORD.finditer(text)]


def pairs_{i}(items):
    for first, second in itertools.pairwise(items):
        if first == second:
            continue
        yield first, second


def summarize_{i}(values: list[float]) -> dict[str, float]:
    if not values:
        return {{}}
    total = sum(values)
    mean = total / len(values)
    spread = max(values) - min(values)
    return {{"total": total, "mean": mean, "spread": spread, "count": float(len(values))}}


class Cache{i}:
    def __init__(self, size: int = 128) -> None:
        self.size = size
        self.items: dict[str, object] = {{}}

    def get(self, key: str, default=None):
        return self.items.get(key, default)

    def put(self, key: str, value: object) -> None:
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[key] = value
'''


def make_synthetic_tree(count: int, dest: Path, seed: int = 20240601) -> Path:
    """Exactly `count` .py files under dest (50 per folder): ~25% Django models, ~25% Django views,
    ~15% SQLAlchemy, the rest plain database-free modules. Deterministic for a given seed."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    last_models = 0
    for i in range(count):
        package = dest / f"pkg{i // 50:03d}"
        package.mkdir(exist_ok=True)
        roll = rng.random()
        if roll < 0.25 or i == 0:
            last_models = i
            name, text = f"models{i}.py", _DJANGO_MODELS.format(i=i)
        elif roll < 0.50:
            name, text = f"views{i}.py", _DJANGO_VIEWS.format(i=i, j=last_models)
        elif roll < 0.65:
            name, text = f"sa{i}.py", _SQLALCHEMY.format(i=i)
        else:
            name, text = f"util{i}.py", _PLAIN.format(i=i)
        (package / name).write_text(text)
    return dest
