"""A quiet first run: the migration rules review only migrations new on a branch, in real git checkouts.

Every test builds a real repository (`git init`, commits, clones, branches) and runs the real
`orm-lint` command and the real flake8 on it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import GIT_ENV, check_json, git, run_flake8, run_orm_lint

INITIAL = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("pages", models.IntegerField(null=True)),
                ("isbn", models.CharField(max_length=13, null=True)),
            ],
        ),
    ]
"""
# Applied in production long ago: a risk then, history now.
OLD_RISKY = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.AddField(model_name="book", name="language", field=models.CharField(max_length=8)),
    ]
"""
NEW_RISKY = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_language")]
    operations = [
        migrations.AlterField(model_name="book", name="pages", field=models.BigIntegerField(null=True)),
        migrations.AlterField(
            model_name="book", name="isbn", field=models.CharField(max_length=13, null=True, unique=True)
        ),
    ]
"""
# Code rules are not limited to new files: an injection in an old file is still reported.
OLD_INJECTION = """\
from django.db import connection


def find(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM catalog_book WHERE title = '{request.GET['t']}'")
"""
MIGRATIONS = Path("catalog/migrations")


def _write(root: Path, relative: Path | str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A project whose default branch has two applied migrations (one risky) and an old SQL injection."""
    root = tmp_path / "upstream"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    _write(root, "catalog/__init__.py", "")
    _write(root, MIGRATIONS / "__init__.py", "")
    _write(root, MIGRATIONS / "0001_initial.py", INITIAL)
    _write(root, MIGRATIONS / "0002_language.py", OLD_RISKY)
    _write(root, "catalog/views.py", OLD_INJECTION)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "history")
    return root


@pytest.fixture
def clone(upstream: Path, tmp_path: Path) -> Path:
    """A fresh clone of the default branch, as a new user makes one (origin/HEAD points at main)."""
    git(tmp_path, "clone", "-q", str(upstream), "clone")
    return tmp_path / "clone"


def _codes(data: dict[str, object]) -> list[tuple[str, str]]:
    return sorted((f["path"], f["code"]) for f in data["findings"])  # type: ignore[index, union-attr]


def _summary(root: Path, *args: str) -> list[str]:
    proc = run_orm_lint("check", "--no-mypy", "--no-cache", ".", *args, cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.splitlines()[-2:]


def test_a_fresh_clone_reports_no_migration_and_says_how_many_were_not_reviewed(clone: Path) -> None:
    data = check_json(".", "--no-cache", cwd=clone)
    assert _codes(data) == [("catalog/views.py", "ORM201")]
    assert data["summary"]["migrations_not_reviewed"] == 2  # type: ignore[index]
    assert _summary(clone) == [
        "orm-lint: 1 finding in 5 files (1 critical)",
        "orm-lint: 2 existing migrations not reviewed (only migrations new on this branch are); "
        'to review them, pass --migrations all or set migrations = "all" in [tool.orm-lint]',
    ]
    assert [f["code"] for f in run_flake8(".", cwd=clone)] == ["ORM201"], "flake8 is just as quiet"


def test_a_branch_that_adds_a_risky_migration_reports_it(clone: Path) -> None:
    git(clone, "checkout", "-q", "-b", "feature")
    _write(clone, MIGRATIONS / "0003_widen.py", NEW_RISKY)
    git(clone, "add", ".")
    git(clone, "commit", "-q", "-m", "widen pages")
    new = (MIGRATIONS / "0003_widen.py").as_posix()
    expected = [(new, "ORM404"), (new, "ORM405"), ("catalog/views.py", "ORM201")]
    data = check_json(".", "--no-cache", cwd=clone)
    assert _codes(data) == expected
    assert data["summary"]["migrations_not_reviewed"] == 2  # type: ignore[index]
    flake8 = sorted((str(f["path"]).removeprefix("./"), str(f["code"])) for f in run_flake8(".", cwd=clone))
    assert flake8 == expected


def test_the_new_migration_alone_as_pre_commit_passes_it_is_judged_with_its_history(clone: Path) -> None:
    """pre-commit passes only the changed file: its dependencies are still read from disk."""
    _write(clone, MIGRATIONS / "0003_widen.py", NEW_RISKY)  # untracked: new
    for cwd, path in ((clone, str(MIGRATIONS / "0003_widen.py")), (clone / MIGRATIONS, "0003_widen.py")):
        data = check_json(path, "--no-cache", cwd=cwd)
        assert [f["code"] for f in data["findings"]] == ["ORM404", "ORM405"]  # type: ignore[union-attr]
        assert [f["code"] for f in run_flake8(path, cwd=cwd)] == ["ORM404", "ORM405"]


def test_uncommitted_edits_and_staged_files_on_the_default_branch_are_new(clone: Path) -> None:
    old = clone / MIGRATIONS / "0002_language.py"
    old.write_text(OLD_RISKY.replace("max_length=8", "max_length=10"), encoding="utf-8")
    _write(clone, MIGRATIONS / "0003_widen.py", NEW_RISKY)
    git(clone, "add", str(MIGRATIONS / "0003_widen.py"))
    codes = [code for _, code in _codes(check_json(".", "--no-cache", cwd=clone))]
    assert codes == ["ORM401", "ORM404", "ORM405", "ORM201"]


def test_all_reviews_every_migration_from_the_command_line_or_the_configuration(clone: Path) -> None:
    every = [("catalog/migrations/0002_language.py", "ORM401"), ("catalog/views.py", "ORM201")]
    data = check_json(".", "--no-cache", "--migrations", "all", cwd=clone)
    assert _codes(data) == every
    assert data["summary"]["migrations_not_reviewed"] == 0  # type: ignore[index]
    assert "not reviewed" not in "\n".join(_summary(clone, "--migrations", "all"))
    _write(clone, "pyproject.toml", '[tool.orm-lint]\nmigrations = "all"\n')
    assert _codes(check_json(".", "--no-cache", cwd=clone)) == every
    assert sorted((str(f["path"]).removeprefix("./"), f["code"]) for f in run_flake8(".", cwd=clone)) == every
    # The command line wins over the configuration.
    assert _codes(check_json(".", "--no-cache", "--migrations", "new", cwd=clone)) == [("catalog/views.py", "ORM201")]


def test_a_wrong_migrations_setting_is_an_error_naming_the_key(clone: Path) -> None:
    _write(clone, "pyproject.toml", '[tool.orm-lint]\nmigrations = "some"\n')
    proc = run_orm_lint("check", "--no-mypy", ".", cwd=clone)
    assert proc.returncode == 2
    assert "`migrations` must be one of new, all" in proc.stderr


def test_the_default_branch_is_found_without_origin(tmp_path: Path) -> None:
    """No remote: `master` is the default branch; a branch off it reviews what it adds."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "master")
    _write(root, MIGRATIONS / "0001_initial.py", INITIAL)
    _write(root, MIGRATIONS / "0002_language.py", OLD_RISKY)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "history")
    git(root, "checkout", "-q", "-b", "work")
    _write(root, MIGRATIONS / "0003_widen.py", NEW_RISKY)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "widen")
    data = check_json(".", "--no-cache", cwd=root)
    assert {f["path"] for f in data["findings"]} == {"catalog/migrations/0003_widen.py"}  # type: ignore[union-attr]


def test_every_migration_is_reviewed_where_git_cannot_tell_what_is_new(tmp_path: Path) -> None:
    """Outside git, in a repository without commits, or without a default branch to compare with."""
    outside = tmp_path / "outside"
    _write(outside, MIGRATIONS / "0001_initial.py", INITIAL)
    _write(outside, MIGRATIONS / "0002_language.py", OLD_RISKY)
    assert [f["code"] for f in check_json(".", "--no-cache", cwd=outside)["findings"]] == ["ORM401"]

    for setup in (["init", "-q", "-b", "main"], ["init", "-q", "-b", "develop"]):
        root = tmp_path / setup[-1]
        _write(root, MIGRATIONS / "0001_initial.py", INITIAL)
        _write(root, MIGRATIONS / "0002_language.py", OLD_RISKY)
        git(root, *setup)
        if setup[-1] == "develop":  # committed, but no main, master or origin/HEAD to compare with
            git(root, "add", ".")
            git(root, "commit", "-q", "-m", "history")
        data = check_json(".", "--no-cache", cwd=root)
        assert [f["code"] for f in data["findings"]] == ["ORM401"]  # type: ignore[union-attr]
        assert data["summary"]["migrations_not_reviewed"] == 0  # type: ignore[index]


def test_look_alikes_are_not_counted_as_migrations(upstream: Path, tmp_path: Path) -> None:
    """A `versions` folder of API code, a migrations package's __init__: not migrations; a revision is."""
    _write(upstream, "api/versions/v1.py", "ROUTES = []\n")
    _write(upstream, "alembic/versions/1a2b_initial.py", 'revision = "1a2b"\ndown_revision = None\n')
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "more history")
    git(tmp_path, "clone", "-q", str(upstream), "clone")
    data = check_json(".", "--no-cache", cwd=tmp_path / "clone")
    assert data["summary"]["migrations_not_reviewed"] == 3  # type: ignore[index]


def test_commits_not_yet_on_the_default_branch_are_new(clone: Path) -> None:
    """Work committed on a local main that origin does not have yet is still under review."""
    _write(clone, MIGRATIONS / "0003_widen.py", NEW_RISKY)
    git(clone, "add", ".")
    git(clone, "commit", "-q", "-m", "widen pages")
    codes = [code for _, code in _codes(check_json(".", "--no-cache", cwd=clone))]
    assert codes == ["ORM404", "ORM405", "ORM201"]


def test_the_review_says_how_many_migrations_were_not_reviewed(clone: Path, tmp_path: Path) -> None:
    proc = run_orm_lint("report", "--no-mypy", "--no-cache", ".", "--output", str(tmp_path / "out"), cwd=clone)
    assert proc.returncode == 0, proc.stderr
    [summary] = (tmp_path / "out").glob("database-review-*.md")
    text = summary.read_text(encoding="utf-8")
    assert "- Migrations: 2 existing migrations not reviewed" in text
    assert "--migrations all" in text


def test_json_summary_counts_nothing_outside_git(tmp_path: Path) -> None:
    _write(tmp_path, "app.py", "x = 1\n")
    proc = run_orm_lint("check", "--no-mypy", "--format", "json", ".", cwd=tmp_path)
    assert json.loads(proc.stdout)["summary"]["migrations_not_reviewed"] == 0


# -- a table that came in the same release ---------------------------------------------------------------------------

CREATE_SHELF = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_language")]
    operations = [
        migrations.CreateModel(
            name="Shelf",
            fields=[("id", models.BigAutoField(primary_key=True)), ("label", models.CharField(max_length=40))],
        ),
    ]
"""
INDEX_SHELF_AND_BOOK = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_shelf")]
    operations = [
        migrations.AddIndex(model_name="shelf", index=models.Index(fields=["label"], name="shelf_label")),
        migrations.AddIndex(model_name="book", index=models.Index(fields=["isbn"], name="book_isbn")),
    ]
"""


def _index_lines(root: Path) -> list[tuple[str, int]]:
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM405", cwd=root)
    return sorted((f["model"], f["line"]) for f in data["findings"])  # type: ignore[index, union-attr]


def _release(root: Path, tag: str, *files: tuple[str, str]) -> None:
    for name, text in files:
        _write(root, MIGRATIONS / name, text)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", f"release {tag}")
    git(root, "tag", tag)


def test_an_index_on_a_table_the_same_release_created_is_not_reported(upstream: Path) -> None:
    git(upstream, "tag", "v1.0")  # the book table is released
    _release(upstream, "v1.1", ("0003_shelf.py", CREATE_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    assert _index_lines(upstream) == [("book", 8)], "the shelf table is empty on every upgrade from v1.0"


def test_an_index_on_a_table_an_earlier_release_created_is_reported(upstream: Path) -> None:
    _release(upstream, "v1.0", ("0003_shelf.py", CREATE_SHELF))
    _release(upstream, "v1.1", ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    assert _index_lines(upstream) == [("book", 8), ("shelf", 7)]


def test_a_pre_release_is_not_a_release(upstream: Path) -> None:
    git(upstream, "tag", "v1.0")
    _release(upstream, "v1.1b1", ("0003_shelf.py", CREATE_SHELF))  # only testers ever had the table
    _release(upstream, "v1.1", ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    assert _index_lines(upstream) == [("book", 8)]


def test_a_branch_that_creates_a_table_and_indexes_it_reports_only_the_older_table(clone: Path) -> None:
    git(clone, "checkout", "-q", "-b", "shelves")
    _write(clone, MIGRATIONS / "0003_shelf.py", CREATE_SHELF)
    _write(clone, MIGRATIONS / "0004_indexes.py", INDEX_SHELF_AND_BOOK)  # not even committed: git still tells
    data = check_json(".", "--no-cache", "--select", "ORM405", cwd=clone)
    assert sorted((f["model"], f["line"]) for f in data["findings"]) == [("book", 8)]  # type: ignore[union-attr]
    flake8 = run_flake8(MIGRATIONS / "0004_indexes.py", cwd=clone)
    assert [f["line"] for f in flake8 if f["code"] == "ORM405"] == [8]


# The app keeps its label when its package moves or is renamed.
CATALOG_LABEL = (
    'from django.apps import AppConfig\n\n\nclass Shop(AppConfig):\n    name = "shop"\n    label = "catalog"\n'
)


def test_a_moved_app_keeps_the_history_of_its_tables(upstream: Path) -> None:
    """The book table came in v1.0 under `catalog/`; the package moved into `apps/` since. The shelf table is new."""
    _write(upstream, "apps/__init__.py", "")
    _write(upstream, "catalog/apps.py", CATALOG_LABEL)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "apps")
    git(upstream, "tag", "v1.0")
    git(upstream, "mv", "catalog", "apps/shop")
    git(upstream, "commit", "-q", "-m", "move and rename the package")
    moved = Path("apps/shop/migrations")
    for name, text in (("0003_shelf.py", CREATE_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK)):
        _write(upstream, moved / name, text)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "shelves")
    git(upstream, "tag", "v2.0")
    assert _index_lines(upstream) == [("book", 8)]


def test_a_moved_app_on_a_branch_keeps_the_history_of_its_tables(clone: Path) -> None:
    git(clone, "checkout", "-q", "-b", "move")
    _write(clone, "catalog/apps.py", CATALOG_LABEL)
    git(clone, "add", ".")
    git(clone, "mv", "catalog", "shop")
    _write(clone, "shop/migrations/0003_shelf.py", CREATE_SHELF)
    _write(clone, "shop/migrations/0004_indexes.py", INDEX_SHELF_AND_BOOK)
    data = check_json(".", "--no-cache", "--select", "ORM405", cwd=clone)
    assert sorted((f["model"], f["line"]) for f in data["findings"]) == [("book", 8)]  # type: ignore[union-attr]


SQUASHED = INITIAL.replace(
    "    initial = True\n", '    replaces = [("catalog", "0001_initial"), ("catalog", "0002_language")]\n'
)


def test_a_table_of_a_squashed_migration_is_not_taken_for_a_new_one(upstream: Path) -> None:
    git(upstream, "tag", "v1.0")
    _write(upstream, MIGRATIONS / "0001_squashed_0002_language.py", SQUASHED)
    index = INDEX_SHELF_AND_BOOK.replace('("catalog", "0003_shelf")', '("catalog", "0001_squashed_0002_language")')
    only_book = (
        '        migrations.AddIndex(model_name="shelf", index=models.Index(fields=["label"], name="shelf_label")),\n'
    )
    _release(upstream, "v1.1", ("0003_indexes.py", index.replace(only_book, "")))
    assert _index_lines(upstream) == [("book", 7)]


def test_a_tag_of_another_branch_does_not_decide(upstream: Path) -> None:
    """v0.9.1, tagged on a maintenance branch after v1.0, lacks both migrations: v1.0 had the shelf table."""
    git(upstream, "tag", "v0.9")
    git(upstream, "branch", "maintenance")
    _release(upstream, "v1.0", ("0003_shelf.py", CREATE_SHELF))
    _write(upstream, MIGRATIONS / "0004_indexes.py", INDEX_SHELF_AND_BOOK)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "indexes")
    git(upstream, "checkout", "-q", "maintenance")
    _write(upstream, "catalog/views.py", OLD_INJECTION + "\n")
    git(upstream, "commit", "-qam", "a fix")
    git(upstream, "tag", "v0.9.1")
    git(upstream, "checkout", "-q", "main")
    assert _index_lines(upstream) == [("book", 8), ("shelf", 7)]


def test_tables_not_released_yet_are_reported(upstream: Path) -> None:
    """Both came after the last release: a project deployed from its default branch has the table already."""
    git(upstream, "tag", "v1.0")
    _write(upstream, MIGRATIONS / "0003_shelf.py", CREATE_SHELF)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "shelves")
    _write(upstream, MIGRATIONS / "0004_indexes.py", INDEX_SHELF_AND_BOOK)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "indexes")
    assert _index_lines(upstream) == [("book", 8), ("shelf", 7)]


def test_without_release_tags_or_a_default_branch_every_index_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    for name, text in (
        ("0001_initial.py", INITIAL),
        ("0002_language.py", OLD_RISKY),
        ("0003_shelf.py", CREATE_SHELF),
        ("0004_indexes.py", INDEX_SHELF_AND_BOOK),
    ):
        _write(root, MIGRATIONS / name, text)
    assert _index_lines(root) == [("book", 8), ("shelf", 7)]


def test_an_app_whose_appconfig_sets_its_label_is_followed_through_its_history(upstream: Path) -> None:
    """Dependencies name the app by its AppConfig label (`shop_catalog`), not by its package (`catalog`)."""
    _write(
        upstream,
        "catalog/apps.py",
        "from django.apps import AppConfig\n\n\nclass Catalog(AppConfig):\n"
        '    name = "catalog"\n    label = "shop_catalog"\n',
    )
    for name in ("0002_language.py",):
        text = (upstream / MIGRATIONS / name).read_text().replace('("catalog",', '("shop_catalog",')
        _write(upstream, MIGRATIONS / name, text)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "label")
    git(upstream, "tag", "v1.0")
    relabelled = [
        (n, t.replace('("catalog",', '("shop_catalog",'))
        for n, t in (("0003_shelf.py", CREATE_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    ]
    _release(upstream, "v1.1", *relabelled)
    assert _index_lines(upstream) == [("book", 8)]


ALEMBIC_REVISION = '''\\
"""{message}"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = {down}


def upgrade():
    {body}


def downgrade():
    pass
'''
VERSIONS = Path("migrations/versions")


def _revision(revision: str, down: str | None, body: str) -> str:
    return ALEMBIC_REVISION.format(message=revision, revision=revision, down=repr(down), body=body)


def test_alembic_an_index_on_a_table_the_same_release_created_is_not_reported(tmp_path: Path) -> None:
    root = tmp_path / "service"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    _write(
        root, VERSIONS / "a1_users.py", _revision("a1", None, 'op.create_table("users", sa.Column("id", sa.Integer))')
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "1.0")
    git(root, "tag", "1.0")
    _write(
        root, VERSIONS / "b2_likes.py", _revision("b2", "a1", 'op.create_table("likes", sa.Column("id", sa.Integer))')
    )
    _write(
        root,
        VERSIONS / "c3_indexes.py",
        _revision(
            "c3", "b2", 'op.create_index("ix_likes", "likes", ["id"])\n    op.create_index("ix_users", "users", ["id"])'
        ),
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "2.0")
    git(root, "tag", "2.0")
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM405", cwd=root)
    assert [f["model"] for f in data["findings"]] == ["users"]  # type: ignore[index, union-attr]


ADD_SUBTITLE = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_language")]
    operations = [
        migrations.AddField(model_name="book", name="subtitle", field=models.CharField(max_length=80, null=True)),
    ]
"""
DROP_SUBTITLE_AND_ISBN = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_subtitle")]
    operations = [
        migrations.RemoveField(model_name="book", name="subtitle"),
        migrations.RemoveField(model_name="book", name="isbn"),
    ]
"""


def test_dropping_a_column_the_same_release_added_is_not_reported(upstream: Path) -> None:
    """No deployed code knows `subtitle`: the release before this one never had it. `isbn` it reads."""
    git(upstream, "tag", "v1.0")
    _release(upstream, "v1.1", ("0003_subtitle.py", ADD_SUBTITLE), ("0004_drop.py", DROP_SUBTITLE_AND_ISBN))
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM402", cwd=upstream)
    assert [(f["line"], f["message"].split(" while")[0]) for f in data["findings"]] == [  # type: ignore[union-attr]
        (8, "RemoveField drops column book.isbn")
    ]


def test_alembic_dropping_a_column_the_same_release_added_is_not_reported(tmp_path: Path) -> None:
    root = tmp_path / "service"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    _write(
        root,
        VERSIONS / "a1_users.py",
        _revision("a1", None, 'op.create_table("users", sa.Column("id", sa.Integer), sa.Column("nick", sa.Text))'),
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "1.0")
    git(root, "tag", "1.0")
    add = 'with op.batch_alter_table("users") as batch_op:\n        batch_op.add_column(sa.Column("note", sa.Text))'
    _write(root, VERSIONS / "b2_note.py", _revision("b2", "a1", add))
    _write(
        root,
        VERSIONS / "c3_drop.py",
        _revision("c3", "b2", 'op.drop_column("users", "note")\n    op.drop_column("users", "nick")'),
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "2.0")
    git(root, "tag", "2.0")
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM402", cwd=root)
    assert [f["line"] for f in data["findings"]] == [12]  # type: ignore[index, union-attr]


def _tag_on(root: Path, tag: str, day: int) -> None:
    """An annotated tag dated `day` days into 2024: tags made in one second would tie."""
    environment = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": f"2024-01-{day:02d}T12:00:00"}
    subprocess.run(["git", "tag", "-a", tag, "-m", tag], cwd=root, env=environment, check=True)


def test_before_the_first_release_pre_releases_are_the_releases(upstream: Path) -> None:
    _tag_on(upstream, "v0.1.0-alpha1", 1)  # the book table ships in an alpha, before any final release
    _write(upstream, MIGRATIONS / "0003_shelf.py", CREATE_SHELF)
    _write(upstream, MIGRATIONS / "0004_indexes.py", INDEX_SHELF_AND_BOOK)
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "shelves")
    _tag_on(upstream, "v0.1.0-alpha2", 2)
    _tag_on(upstream, "v0.1.0", 3)
    assert _index_lines(upstream) == [("book", 8)]


def test_alembic_a_table_created_again_is_dated_by_its_last_creation(tmp_path: Path) -> None:
    root = tmp_path / "service"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    likes = 'op.create_table("likes", sa.Column("id", sa.Integer))'
    _write(root, VERSIONS / "a1_likes.py", _revision("a1", None, likes))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "1.0")
    git(root, "tag", "1.0")
    _write(root, VERSIONS / "b2_drop.py", _revision("b2", "a1", 'op.drop_table("likes")'))
    _write(root, VERSIONS / "c3_again.py", _revision("c3", "b2", likes))
    _write(root, VERSIONS / "d4_index.py", _revision("d4", "c3", 'op.create_index("ix_likes", "likes", ["id"])'))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "2.0")
    git(root, "tag", "2.0")
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM402,ORM405", cwd=root)
    assert [(f["path"], f["code"]) for f in data["findings"]] == [  # type: ignore[index, union-attr]
        ("migrations/versions/b2_drop.py", "ORM402")  # the 1.0 table; the index is on the new, empty one
    ]


def test_alembic_renamed_revision_files_keep_the_history_of_their_tables(tmp_path: Path) -> None:
    root = tmp_path / "service"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    _write(root, VERSIONS / "a1.py", _revision("a1", None, 'op.create_table("likes", sa.Column("id", sa.Integer))'))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "1.0")
    git(root, "tag", "1.0")
    git(root, "mv", str(VERSIONS / "a1.py"), str(VERSIONS / "2024_01_01_a1_likes.py"))
    _write(root, VERSIONS / "b2.py", _revision("b2", "a1", 'op.create_index("ix_likes", "likes", ["id"])'))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "2.0")
    git(root, "tag", "2.0")
    data = check_json(".", "--no-cache", "--migrations", "all", "--select", "ORM405", cwd=root)
    assert [f["model"] for f in data["findings"]] == ["likes"]  # type: ignore[index, union-attr]


ADOPT_LEGACY_SHELF = CREATE_SHELF.replace(
    "        ),\n    ]",
    '            options={"managed": False, "db_table": "legacy_shelf"},\n        ),\n'
    '        migrations.AlterModelOptions(name="shelf", options={}),\n    ]',
)


def test_an_adopted_legacy_table_is_not_taken_for_a_new_one(upstream: Path) -> None:
    """`managed=False` then managed: Django created no table, the legacy one is full."""
    git(upstream, "tag", "v1.0")
    _release(upstream, "v1.1", ("0003_shelf.py", ADOPT_LEGACY_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    assert _index_lines(upstream) == [("book", 8), ("shelf", 7)]


def test_the_results_cache_notices_when_the_table_moves_to_an_older_migration(
    upstream: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    git(upstream, "tag", "v1.0")
    _release(upstream, "v1.1", ("0003_shelf.py", CREATE_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK))

    def shelf_reported() -> bool:
        data = check_json(".", "--migrations", "all", "--select", "ORM405", cwd=upstream)
        return "shelf" in {f["model"] for f in data["findings"]}  # type: ignore[union-attr]

    assert not shelf_reported()
    # The shelf table turns out to be v1.0's: its CreateModel goes to 0002, 0003 keeps only the language field.
    shelf = CREATE_SHELF[CREATE_SHELF.index("        migrations.CreateModel(") : CREATE_SHELF.index("    ]\n")]
    _write(upstream, MIGRATIONS / "0002_language.py", OLD_RISKY.replace("    ]\n", shelf + "    ]\n"))
    _write(upstream, MIGRATIONS / "0003_shelf.py", CREATE_SHELF.replace(shelf, ""))
    git(upstream, "commit", "-qam", "history rewritten")
    assert shelf_reported(), "0004 is unchanged, but the migration its table came from is not"


def test_a_migration_deleted_then_written_again_is_dated_by_its_new_birth(upstream: Path) -> None:
    """An app rewritten from scratch: v1.0 had a `0003_shelf.py` that v1.1 deleted; v2.0 writes a new one."""
    _release(upstream, "v1.0", ("0003_shelf.py", CREATE_SHELF))
    git(upstream, "rm", "-q", str(MIGRATIONS / "0003_shelf.py"))
    git(upstream, "commit", "-q", "-m", "drop shelves")
    git(upstream, "tag", "v1.1")
    _release(upstream, "v2.0", ("0003_shelf.py", CREATE_SHELF), ("0004_indexes.py", INDEX_SHELF_AND_BOOK))
    assert _index_lines(upstream) == [("book", 8)]
