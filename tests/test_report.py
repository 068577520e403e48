"""`orm-lint report`: the database review on the bundled examples and the acceptance apps, written safely."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SHARED, check_json, run_on_terminal, run_orm_lint

EXAMPLES = ROOT / "examples"
ACCEPTANCE = SHARED / "acceptance"
ACCEPTANCE_APPS = ("django_library", "flask_blog", "sqla_shop", "sqlmodel_teams")
LINK = re.compile(r"\]\((database-review-[0-9-]+/finding-\d{3}-[a-z0-9-]+\.md)\)")
N_PLUS_ONE = """\
from library.models import Book


def titles():
    return [b.author.name for b in Book.objects.all()]
"""


def _today() -> str:
    return datetime.date.today().isoformat()


def _report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = run_orm_lint("report", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def _written(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_report_on_the_examples(tmp_path: Path) -> None:
    out = tmp_path / "review"
    proc = _report(".", "--output", str(out), cwd=EXAMPLES)
    summary = out / f"database-review-{_today()}.md"
    assert proc.stdout.startswith(f"wrote {summary}")
    assert proc.stderr == "", "quiet when stderr is not a terminal"
    text = summary.read_text(encoding="utf-8")
    findings = check_json(".", cwd=EXAMPLES, mypy=True)["findings"]
    assert len(findings) == 9
    # counts per priority, chart, score with its formula
    # the examples' SQL is built from a caller's value, not request data: high, not critical
    assert "| P0 | critical | 0 |" in text and "| P1 | high | 7 |" in text and "| P2 | medium | 2 |" in text
    assert "```mermaid\npie showData title Findings by category" in text
    assert '"Security" : 2' in text and '"Performance" : 5' in text and '"Correctness" : 1' in text
    assert '"Schema and data integrity" : 1' in text  # ORM306: Order.status is filtered at two places
    assert "**52 / 100**" in text
    assert "`max(0, 100 − 15 × 0 − 6 × 7 − 3 × 2 − 1 × 0) = 52`" in text
    # good patterns counted from the code, with their places
    assert "| Eager-loaded loops | 3 |" in text and "`bookshop/services.py:18`" in text
    assert "| Indexed foreign keys | 3 |" in text and "`orders_api/models.py:21`" in text
    assert "| Parameterized SQL | 2 |" in text and "`bookshop/services.py:42`" in text
    assert "| Paginated or limited endpoints | 1 |" in text and "`bookshop/views.py:12`" in text
    # action items link to one page per finding, most severe first
    links = LINK.findall(text)
    assert len(links) == 9 and all((out / link).is_file() for link in links)
    assert links[0].endswith("finding-001-lazy-load-per-item-services.md")  # high first, then by place
    assert _written(out) == {summary, *(out / link for link in links)}
    assert "- [ ] ORM201 `sql-built-from-strings` (2 places)" in text


def test_finding_page_shows_real_code_the_fix_and_a_test(tmp_path: Path) -> None:
    _report(".", "--output", str(tmp_path), "--no-mypy", cwd=EXAMPLES)
    folder = tmp_path / f"database-review-{_today()}"
    [page] = folder.glob("finding-*-query-in-loop-services.md")
    text = page.read_text(encoding="utf-8")
    assert "| location | `bookshop/services.py:24` (column 16) |" in text
    # the real lines, with context and the finding's line marked
    assert "\n> 24 |         book = Book.objects.filter(isbn=isbn).first()\n" in text
    assert "\n  23 |     for isbn in isbns:\n" in text
    # the message's own advice, then the catalogue's example, steps and test
    assert "**load them all before the loop with one filter(\\<field\\>\\_\\_in=...) or in\\_bulk()" in text
    assert "## Why it helps\n\nEach call is a network round trip." in text
    assert "1. Collect the keys first" in text
    assert (
        "with self.assertNumQueries(N):\n            scan_barcodes(...)  # scan_barcodes in bookshop/services.py"
        in text
    )
    assert "django_assert_num_queries" in text and "before_cursor_execute(conn" not in text, "Django file: Django test"
    [sqlalchemy_page] = folder.glob("finding-*-query-in-loop-api.md")
    sqlalchemy_text = sqlalchemy_page.read_text(encoding="utf-8")
    assert 'event.listen(engine, "before_cursor_execute", before_cursor_execute)' in sqlalchemy_text
    assert "import_customers(...)" in sqlalchemy_text and "assertNumQueries(N)" not in sqlalchemy_text
    assert f"[Back to the review summary](../database-review-{_today()}.md)" in text


@pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason=f"acceptance corpus not found at {ACCEPTANCE}")
@pytest.mark.parametrize("app", ACCEPTANCE_APPS)
def test_report_on_the_acceptance_apps(tmp_path: Path, app: str) -> None:
    copy = tmp_path / app
    shutil.copytree(ACCEPTANCE / app, copy)
    out = tmp_path / "review"
    _report(".", "--exclude", "verify.py", "--no-mypy", "--output", str(out), cwd=copy)
    findings = check_json(".", "--exclude", "verify.py", cwd=copy)["findings"]
    text = (out / f"database-review-{_today()}.md").read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert findings and len(links) == len(findings)
    pages = [(out / link).read_text(encoding="utf-8") for link in links]
    shown = {re.search(r"\| location \| `([^`]+)`", page)[1] for page in pages}  # type: ignore[index]
    assert shown == {f"{f['path']}:{f['line']}" for f in findings}
    for page, link in zip(pages, links):
        location = re.search(r"\| location \| `([^:]+):(\d+)`", page)
        assert location is not None, link
        path, line = location[1], int(location[2])
        source_line = (copy / path).read_text(encoding="utf-8").splitlines()[line - 1]
        assert f"{line} | {source_line}".rstrip() in page, "the current code is the real line"
    for title in ("Eager-loaded loops", "Indexed foreign keys", "Parameterized SQL", "Paginated or limited endpoints"):
        count = int(re.search(rf"\| {title} \| (\d+) \|", text)[1])  # type: ignore[index]
        assert count >= 1, f"{app}: every acceptance app has {title.lower()}"
    # every page shows code, and only code of the finding's own framework
    framework_at = {f"{f['path']}:{f['line']}": f["framework"] for f in findings}
    for page, link in zip(pages, links):
        where = re.search(r"\| location \| `([^`]+)`", page)[1]  # type: ignore[index]
        django_finding = framework_at[where] == "django"
        blocks = _code_blocks(page)
        assert blocks, link
        for block in blocks:
            assert _shows_django(block) == django_finding, (app, link, block)


def test_same_day_reports_are_numbered_or_forced(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    out = tmp_path / "out"
    for _ in range(3):
        _report("app", "--no-mypy", "--output", str(out), cwd=tmp_path)
    day = _today()
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"database-review-{day}",
        f"database-review-{day}-2",
        f"database-review-{day}-2.md",
        f"database-review-{day}-3",
        f"database-review-{day}-3.md",
        f"database-review-{day}.md",
    ]
    assert f"({f'database-review-{day}-3'}/finding-001-" in (out / f"database-review-{day}-3.md").read_text()
    # --force reuses the plain name; stale finding pages go, other files stay
    (out / f"database-review-{day}" / "finding-009-old.md").write_text("old")
    (out / f"database-review-{day}" / "notes.txt").write_text("mine")
    (tmp_path / "app" / "services.py").write_text("import django\n")
    proc = _report("app", "--no-mypy", "--output", str(out), "--force", cwd=tmp_path)
    assert proc.stdout.strip() == f"wrote {out / f'database-review-{day}.md'}"
    assert sorted(p.name for p in (out / f"database-review-{day}").iterdir()) == ["notes.txt"]
    assert "Nothing to do" in (out / f"database-review-{day}.md").read_text()
    assert not list(out.rglob(".orm-lint-*")), "no temporary files left behind"


HOSTILE_NAMES = [
    "with space.py",
    "ünïcödé 文件.py",
    "..hidden..py",
    "a..b.py",
    "-dash.py",
    "back`tick|pipe*star_[x].py",
    "new\nline.py",
    "x" * 240 + ".py",
]


def test_hostile_file_names_never_lead_outside_the_output_folder(tmp_path: Path, write_module) -> None:
    for name in HOSTILE_NAMES:
        write_module(N_PLUS_ONE, f"src/{name}")
    sources = _written(tmp_path)
    out = tmp_path / "deep" / "out"
    _report("src", "--no-mypy", "--output", str(out), cwd=tmp_path)
    written = _written(tmp_path) - sources
    assert len(written) == 1 + len(HOSTILE_NAMES)
    for path in written:
        assert path.resolve().is_relative_to(out.resolve())
        assert re.fullmatch(r"(database-review-[0-9-]+\.md|finding-\d{3}-[a-z0-9-]{1,60}\.md)", path.name), path.name
    summary = next(out.glob("*.md")).read_text(encoding="utf-8")
    table_rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") for line in table_rows), "no file name breaks a table"
    assert "new\ufffdline.py" in summary and "new\nline.py" not in summary


def test_hostile_folder_names_outside_the_working_folder(tmp_path: Path, write_module) -> None:
    """Findings whose paths climb out of the working folder (`../…`) and cross hostile folder names."""
    folders = ["..hidden..", "-dash", "new\nline", "x" * 200, "ünï 文件", "a..b"]
    for folder in folders:
        write_module(N_PLUS_ONE, f"elsewhere/{folder}/m.py")
    work = tmp_path / "work"
    work.mkdir()
    before = _written(tmp_path)
    _report("../elsewhere", "--no-mypy", "--output", "out", cwd=work)
    written = _written(tmp_path) - before
    assert len(written) == 1 + len(folders)
    for path in written:
        assert path.resolve().is_relative_to((work / "out").resolve())
        assert re.fullmatch(r"(database-review-[0-9-]+\.md|finding-\d{3}-[a-z0-9-]{1,60}\.md)", path.name), path.name


def test_a_symlinked_review_folder_is_not_followed(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / f"database-review-{_today()}").symlink_to(elsewhere, target_is_directory=True)
    proc = run_orm_lint("report", "app", "--no-mypy", "--output", str(out), "--force", cwd=tmp_path)
    assert proc.returncode == 2 and "symbolic link" in proc.stderr
    _report("app", "--no-mypy", "--output", str(out), cwd=tmp_path)
    assert list(elsewhere.iterdir()) == []
    assert (out / f"database-review-{_today()}-2.md").is_file()


def test_progress_on_a_terminal_only(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    proc, shown = run_on_terminal("report", "app", "--no-mypy", "--output", "out", cwd=tmp_path)
    assert proc.returncode == 0
    assert "orm-lint: syntax engine 0/1 files" in shown and "orm-lint: writing finding 1/1" in shown
    assert shown.endswith("\r\033[K"), "the line is cleared before the result is printed"
    piped = run_orm_lint("report", "app", "--no-mypy", "--output", "out", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
    quiet, shown = run_on_terminal("report", "app", "--no-mypy", "--output", "out", "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and shown == ""


def test_report_errors_exit_2(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    (tmp_path / "file").write_text("not a folder")
    proc = run_orm_lint("report", "app", "--no-mypy", "--output", "file", cwd=tmp_path)
    assert proc.returncode == 2 and "orm-lint: error:" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_orm_lint("report", "missing", "--no-mypy", cwd=tmp_path)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


PAGED_VIEW_WITH_N_PLUS_ONE = """\
from django.http import JsonResponse

from library.models import Book


def book_list(request):
    books = Book.objects.order_by("title")[:20]
    return JsonResponse({"books": [b.author.name for b in books]})
"""


def test_report_files_are_readable_by_the_team(tmp_path: Path, write_module) -> None:
    write_module(N_PLUS_ONE, "app/services.py")
    _report("app", "--no-mypy", "--output", "out", cwd=tmp_path)
    written = _written(tmp_path / "out")
    assert len(written) == 2
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o644, "mode 0644 under the usual umask 022"


def test_an_empty_folder_gets_no_score(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _report("empty", "--no-mypy", "--output", "out", cwd=tmp_path)
    text = (tmp_path / "out" / f"database-review-{_today()}.md").read_text(encoding="utf-8")
    assert "/ 100" not in text and "No score: nothing was analysed." in text
    assert "Nothing to review" in text and "Great work" not in text


def test_an_endpoint_with_a_finding_is_not_a_good_pattern(tmp_path: Path, write_module) -> None:
    write_module(PAGED_VIEW_WITH_N_PLUS_ONE, "library/views.py")
    write_module(
        "from django.db import models\n\n\nclass Author(models.Model):\n    name = models.TextField()\n\n\n"
        "class Book(models.Model):\n    title = models.TextField()\n"
        "    author = models.ForeignKey(Author, on_delete=models.CASCADE)\n",
        "library/models.py",
    )
    _report("library", "--no-mypy", "--output", "out", cwd=tmp_path)
    out = tmp_path / "out"
    text = (out / f"database-review-{_today()}.md").read_text(encoding="utf-8")
    assert "ORM102" in text
    assert "| Paginated or limited endpoints | 0 |" in text
    [page] = (out / f"database-review-{_today()}").glob("finding-*.md")
    page_text = page.read_text(encoding="utf-8")
    assert "Thank you" not in page_text and "Nice work" not in page_text, "no pleasantries on every page"
    assert "the cost grows with the data" in page_text


def test_a_correctness_finding_is_not_about_growing_data(tmp_path: Path) -> None:
    _report(".", "--output", str(tmp_path), "--no-mypy", cwd=EXAMPLES)
    [page] = (tmp_path / f"database-review-{_today()}").glob("finding-*-identity-test-in-filter-*.md")
    text = page.read_text(encoding="utf-8")
    assert "grows" not in text and "the code gives a wrong result or raises" in text


PER_ITEM_WRITES = """\
from library.models import Author, Book


def reprice(isbns, rate):
    for book in Book.objects.filter(isbn__in=isbns):
        book.price = book.price * rate
        book.save()


def book_counts():
    return {author.name: author.books.count() for author in Author.objects.all()}
"""


def _pages(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob("database-review-*/finding-*.md")}


def _code_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page, re.S)


def _shows_django(block: str) -> bool:
    """Django code (`objects`, `django` imports, a raw cursor); else the SQLAlchemy family's (a session, `select()`)."""
    django = "objects" in block or "django" in block or "connection.cursor" in block
    sqlalchemy = any(word in block for word in ("sqlalchemy", "sqlmodel", "session", "db.Model", "select("))
    assert django != sqlalchemy, block
    return django


def test_every_page_shows_code_in_its_own_framework(tmp_path: Path) -> None:
    """The examples' pages: each python block of a Django finding is Django code, of a SQLAlchemy one SQLAlchemy."""
    _report(".", "--output", str(tmp_path), "--no-mypy", cwd=EXAMPLES)
    findings = check_json(".", cwd=EXAMPLES)["findings"]
    frameworks = {f["path"].split("/")[0]: f["framework"] for f in findings}  # type: ignore[index]
    assert frameworks == {"bookshop": "django", "orders_api": "sqlalchemy"}
    for name, page in _pages(tmp_path).items():
        blocks = _code_blocks(page)
        assert blocks, name
        location = re.search(r"\| location \| `([\w]+)/", page)
        assert location is not None, name
        for block in blocks:
            uses_sqlalchemy = "sqlalchemy" in block or "session" in block
            uses_django = "objects" in block or "django" in block or "connection.cursor" in block
            if frameworks[location.group(1)] == "sqlalchemy":
                assert uses_sqlalchemy and not uses_django, (name, block)
            else:
                assert uses_django and not uses_sqlalchemy, (name, block)


def test_a_django_project_gets_django_examples_for_each_call(tmp_path: Path, write_module) -> None:
    write_module(PER_ITEM_WRITES, "library/services.py")
    out = tmp_path / "out"
    _report("library", "--no-mypy", "--output", str(out), cwd=tmp_path)
    pages = _pages(out)
    assert len(pages) == 2, list(pages)
    save = next(p for p in pages.values() if "book.save()" in p.split("## The current code")[0])
    count = next(p for p in pages.values() if "author.books.count()" in p.split("## The current code")[0])
    assert 'Book.objects.bulk_update(books, ["price"])' in save and "in_bulk(isbns" not in save
    assert 'annotate(n=Count("books"))' in count and "in_bulk(isbns" not in count
    for page in pages.values():
        assert "event.listen(" not in page and "from sqlalchemy" not in page, "no SQLAlchemy code in Django"
        assert "RepriceCountTests" in page or "BookCountsCountTests" in page
