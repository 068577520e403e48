"""Migration safety (ORM4xx): Django migrations and Alembic revisions, linted by the real flake8.

The fixtures say line by line what must be reported (`# error: ORM4xx`); a real Django
project's `makemigrations` output is linted too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, check_json, expected_markers, run_flake8
from orm_lint.flake8_plugin import migration_reader
from orm_lint.flake8_plugin.checks import migrations as migration_checks
from orm_lint.flake8_plugin.scope import build_index

MIGRATIONS = FIXTURES / "migrations"


@pytest.fixture(scope="module")
def fixture_findings() -> list[dict[str, object]]:
    return run_flake8(".", cwd=MIGRATIONS)


def test_flake8_reports_exactly_the_marked_lines(fixture_findings) -> None:
    reported = {(str(f["path"]).removeprefix("./"), f["line"], f["code"]) for f in fixture_findings}
    expected = expected_markers(MIGRATIONS)
    assert sorted(reported - expected) == [], "reported on a line without a marker"
    assert sorted(expected - reported) == [], "marker without a report"
    assert len(fixture_findings) == len(reported), "one report per place"


@pytest.mark.parametrize(
    "path",
    [
        "tournament/migrations/",  # initial migrations after 0001: brand-new tables
        "library/migrations/0016_in_print_to_boolean.py",  # the rename dance in one migration
        "alembic/versions/c2d3e4f5a6b7_prefixed_and_named_tables.py",  # tables named by an f-string or a constant
        "alembic/versions/d3e4f5a6b7c8_link_owner_roles.py",  # lookups per row are reads
    ],
)
def test_each_look_alike_is_silent_beside_its_true_case(fixture_findings, path: str) -> None:
    reported = {(str(f["path"]).removeprefix("./"), f["line"], f["code"]) for f in fixture_findings}
    expected = expected_markers(MIGRATIONS)
    assert {r for r in reported if r[0].startswith(path)} == {e for e in expected if e[0].startswith(path)}


def _message(findings: list[dict[str, object]], path: str, line_text: str) -> str:
    """The message reported on the fixture line that contains `line_text`."""
    lines = (MIGRATIONS / path).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, line in enumerate(lines, 1) if line_text in line]
    [message] = [str(f["message"]) for f in findings if f["path"] == f"./{path}" and f["line"] == number]
    return message


def test_messages_name_the_target_and_the_safe_path(fixture_findings) -> None:
    def message(path: str, line_text: str) -> str:
        return _message(fixture_findings, path, line_text)

    django = "library/migrations/"
    alembic = "alembic/versions/"
    assert message(django + "0002_add_columns.py", "(book.language)") == (
        "AddField adds NOT NULL column book.language without a default to a table that may have rows; "
        "add it with null=True (or db_default=...), backfill it, then make it NOT NULL in a later migration"
    )
    alter = django + "0003_alter_columns.py"
    assert "makes column book.isbn NOT NULL" in message(alter, "(made NOT NULL)")
    assert "(IntegerField() to BigIntegerField())" in message(alter, "(a wider integer)")
    assert "(CharField(max_length=100) to CharField(max_length=50))" in message(alter, "(a shorter varchar)")
    assert "book.legacy_code to book_code" in message(alter, "# error: ORM403")
    assert "adds CHECK (copies >= 0) to column book.copies" in message(alter, "(adds a check)")
    assert "makes column book.signed NOT NULL" in message(alter, "(NullBooleanField made NOT NULL)")
    assert "renames the table of model borrowing back to its default name (library_borrowing)" in message(
        django + "0004_drops_and_renames.py", "(back to the default name)"
    )
    indexes = django + "0005_indexes_and_constraints.py"
    assert "AddIndexConcurrently" in message(indexes, "AddIndex(  # error: ORM405")
    assert "USING INDEX" in message(indexes, "AddConstraint(  # error: ORM405")
    data = django + "0008_data.py"
    assert "bulk_update()" in message(data, "book.save(update_fields")
    assert "os.environ['SHELF']" in message(data, "(f-string)")
    added = django + "0002_add_columns.py"
    assert "builds the implicit index of ForeignKey illustrator on book" in message(added, "(the implicit index)")
    assert "AddIndexConcurrently" in message(added, "(the implicit index)")
    revision = alembic + "2b3c4d5e6f7a_add_columns_indexes_constraints.py"
    assert "postgresql_concurrently=True" in message(revision, "ix_book_language'), 'book'")
    assert message(alembic + "4d5e6f7a8b9c_add_book_language_index.py", "def downgrade").startswith(
        "downgrade() has no reverse: it does nothing while upgrade() runs op.add_column(...)"
    )
    assert message(alembic + "3c4d5e6f7a8b_alter_drop_rename.py", "batch_op.add_column(sa.Column('stars'").startswith(
        "batch_op.add_column() adds NOT NULL column review.stars"
    )
    uuids = alembic + "9c0d1e2f3a4b_uuid_ids_and_prices.py"
    changed = message(uuids, "column_name='created'")
    assert "changes the type of column table_name.created (its current type to" in changed
    assert "builds an index for column isbn10 on book" in message(uuids, "sa.String(10)")
    assert "adds the foreign key of column editor_id to book" in message(uuids, "sa.ForeignKey('author.id')")


def test_messages_print_the_values_of_module_constants(fixture_findings) -> None:
    revision = "alembic/versions/c2d3e4f5a6b7_prefixed_and_named_tables.py"
    constants = _message(fixture_findings, revision, "(constants)")
    assert "builds unique constraint uq_loan_book_member on loan while" in constants
    computed = _message(fixture_findings, revision, '["title"])  # error: ORM405')
    assert "builds index f'ix_{prefix}book_title' on f'{prefix}book'" in computed
    django = _message(fixture_findings, "tournament/migrations/0003_member_seed.py", "AddIndex")
    assert "builds index member_seed_idx on member" in django


def test_each_batch_operation_names_its_own_block_and_data_changes_name_the_schema_change(fixture_findings) -> None:
    def message(path: str, line_text: str) -> str:
        return _message(fixture_findings, path, line_text)

    revision = "alembic/versions/a0b1c2d3e4f5_batches_and_backfill.py"
    assert "NOT NULL column author.born" in message(revision, "sa.Column('born'")
    assert "drops column loan.due" in message(revision, "drop_column('due')")
    assert message(revision, "SET language = 'en'") == (
        "op.execute() changes rows (UPDATE book SET language = 'en' WHERE language IS NULL) in the migration "
        "that also runs op.batch_alter_table() on author, in one transaction; "
        "move it into a revision of its own, in batches inside op.get_context().autocommit_block()"
    )
    django = "library/migrations/0013_drop_shelf_and_backfill.py"
    assert "RunSQL changes rows (DELETE FROM library_loans WHERE due IS NULL)" in message(django, "(after a comment")
    assert message(django, "(a one-off default)").startswith(
        "AddField adds NOT NULL column book.edition (its default is one-off: preserve_default=False) without a "
        "default to a table that may have rows; the previous release's inserts fail once Django drops that default"
    )
    assert "the table of model shelf" in message(django, "DeleteModel(")


def test_noqa_marks_an_operation_as_reviewed(tmp_path: Path) -> None:
    source = (MIGRATIONS / "library/migrations/0002_add_columns.py").read_text(encoding="utf-8")
    reviewed = "        migrations.AddField(  # noqa: ORM401  reviewed: the review table is empty in production\n"
    assert reviewed in source
    target = tmp_path / "library/migrations/0002_add_columns.py"
    target.parent.mkdir(parents=True)
    target.write_text(source.replace(reviewed, "        migrations.AddField(\n"), encoding="utf-8")
    lines = {f["line"] for f in run_flake8(".", cwd=tmp_path) if f["code"] == "ORM401"}
    assert source.splitlines().index(reviewed.rstrip("\n")) + 1 in lines


def _codes_for_backend(path: Path, backend: str | None) -> list[str]:
    index = build_index(ast.parse(path.read_text(encoding="utf-8")), str(path))
    index.backend = backend  # type: ignore[attr-defined]  # wired from [tool.orm-lint] `backend`
    registered = [
        migration_checks.not_null_column_without_default,
        migration_checks.column_type_or_nullability_changed,
        migration_checks.index_created_without_concurrently,
        migration_checks.constraint_added_without_not_valid,
    ]
    return sorted(report.rule.code for check in registered for report in check(index))


@pytest.mark.parametrize(
    ("backend", "locking_rules"),
    [(None, True), ("postgresql", True), ("PostgreSQL", True), ("mysql", False), ("sqlite", False)],
)
def test_postgresql_locking_rules_follow_the_backend(backend: str | None, locking_rules: bool) -> None:
    revision = MIGRATIONS / "alembic/versions/2b3c4d5e6f7a_add_columns_indexes_constraints.py"
    expected = ["ORM401"] + (["ORM405", "ORM405", "ORM406", "ORM406"] if locking_rules else [])
    assert _codes_for_backend(revision, backend) == expected


def test_longer_varchar_is_reported_only_where_it_copies_the_table(tmp_path: Path) -> None:
    revision = tmp_path / "versions/a1_widen.py"
    revision.parent.mkdir()
    revision.write_text(
        textwrap.dedent("""\
            from alembic import op
            import sqlalchemy as sa

            revision = "a1"
            down_revision = None


            def upgrade():
                op.alter_column("book", "title", existing_type=sa.VARCHAR(length=200), type_=sa.String(length=300))


            def downgrade():
                op.alter_column("book", "title", existing_type=sa.String(length=300), type_=sa.VARCHAR(length=200))
            """),
        encoding="utf-8",
    )
    assert _codes_for_backend(revision, "postgresql") == _codes_for_backend(revision, None) == []
    assert _codes_for_backend(revision, "mysql") == ["ORM404"]


def test_more_digits_at_the_same_scale_is_reported_only_where_it_copies_the_table(tmp_path: Path) -> None:
    revision = tmp_path / "versions/b2_price.py"
    revision.parent.mkdir()
    revision.write_text(
        textwrap.dedent("""\
            from alembic import op
            import sqlalchemy as sa

            revision = "b2"
            down_revision = None


            def upgrade():
                op.alter_column("book", "price", existing_type=sa.NUMERIC(10, 2), type_=sa.Numeric(14, scale=2))


            def downgrade():
                op.alter_column("book", "price", existing_type=sa.Numeric(14, 2), type_=sa.NUMERIC(10, 2))
            """),
        encoding="utf-8",
    )
    assert _codes_for_backend(revision, "postgresql") == _codes_for_backend(revision, None) == []
    assert _codes_for_backend(revision, "mysql") == ["ORM404"]


@pytest.mark.parametrize(
    ("test", "branches"),
    [
        ('op.get_bind().dialect.name == "mysql"', (True, False)),
        ('bind.engine.name == "sqlite"', (True, False)),
        ('url.startswith("mysql")', (True, False)),
        ('url.startswith(("mysql", "sqlite"))', (True, False)),
        ('"sqlite" in url', (True, False)),
        ('dialect in ("mysql", "mariadb")', (True, False)),
        ('bind.dialect.name != "postgresql"', (True, False)),
        ('bind.dialect.name == "postgresql"', (False, True)),
        ('url.startswith("postgres")', (False, True)),
        ('bind.dialect.name != "sqlite"', (False, True)),
        ('url.startswith("sqlite") is False', (False, True)),
        ('not url.startswith("mysql")', (False, True)),
        ('is_mysql and url.startswith("mysql")', (True, False)),
        ('url.startswith("mysql") or url.startswith("sqlite")', (True, False)),
        ('url.startswith("mysql") or url.startswith("postgresql")', (False, True)),
        ('name == "book"', (False, False)),
        ("settings.USE_MYSQL", (False, False)),
    ],
)
def test_branches_that_never_run_on_postgresql(test: str, branches: tuple[bool, bool]) -> None:
    expression = ast.parse(test, mode="eval").body
    assert migration_reader.dialect_branches(expression) == branches


# -- a real Django project: the files makemigrations writes ------------------------------

_SETTINGS = """\
SECRET_KEY = "test"
INSTALLED_APPS = ["catalog"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""

_MODELS_BEFORE = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=200, blank=True)
    isbn = models.CharField(max_length=13, null=True)
    pages = models.IntegerField(null=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    class Meta:
        indexes = [models.Index(fields=["title"], name="book_title_idx")]
"""

# Every change makemigrations writes without asking a question (it does not ask for a default
# for blank=True strings or auto_now: its questioner knows the schema editor fills them).
_MODELS_AFTER = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200, help_text="As printed on the cover")
    isbn = models.CharField(max_length=13, null=True, unique=True)
    pages = models.BigIntegerField(null=True)
    language = models.CharField(max_length=8, null=True)
    rating = models.IntegerField(db_default=0)
    price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    blurb = models.CharField(max_length=300, blank=True)
    updated = models.DateTimeField(auto_now=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["title"], name="book_title_idx"),
            models.Index(fields=["language"], name="book_language_idx"),
        ]
"""


def _makemigrations(project: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(project)}
    proc = subprocess.run(
        [sys.executable, "-m", "django", "makemigrations", "catalog", "--noinput"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_makemigrations_output_is_linted_correctly(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(_SETTINGS, encoding="utf-8")
    app = tmp_path / "catalog"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "models.py").write_text(_MODELS_BEFORE, encoding="utf-8")
    _makemigrations(tmp_path)
    (app / "models.py").write_text(_MODELS_AFTER, encoding="utf-8")
    _makemigrations(tmp_path)

    generated = sorted(p.name for p in (app / "migrations").glob("0*.py"))
    assert len(generated) == 2 and generated[0] == "0001_initial.py"
    findings = run_flake8("catalog/migrations", cwd=tmp_path)
    assert all(str(f["path"]).endswith(generated[1]) for f in findings), "the initial migration is silent"

    lines = (app / "migrations" / generated[1]).read_text(encoding="utf-8").splitlines()
    reported = sorted((str(f["code"]), lines[int(str(f["line"])) - 1].strip()) for f in findings)
    assert reported == [
        ("ORM402", "migrations.RemoveField("),
        ("ORM404", "migrations.AlterField("),
        ("ORM405", "migrations.AddField("),
        ("ORM405", "migrations.AddIndex("),
        ("ORM405", "migrations.AlterField("),
    ]
    messages = sorted(str(f["message"]) for f in findings)
    assert any("drops column book.subtitle" in m for m in messages)
    assert any("changes the type of column book.pages" in m for m in messages)
    assert any("builds index book_language_idx on book" in m for m in messages)
    assert any("builds a unique index for isbn on book" in m for m in messages)
    assert any("builds the implicit index of ForeignKey editor on book" in m for m in messages)


def test_locks_on_tables_that_stay_small_are_said_at_a_lower_severity() -> None:
    """A NOT NULL scan or an UPDATE under the lock of a lookup or configuration table is brief: low, and the
    message says why; a table whose rows record when they came grows with use and keeps its severity. An index
    build, whose cost is all size, is low too on a table whose model shows no sign of growing."""
    found = check_json("alembic/versions/e4f5a6b7c8d9_small_tables.py", "--no-cache", cwd=MIGRATIONS)["findings"]
    severities = {(f["line"], f["code"]): f["severity"] for f in found}  # type: ignore[index]
    assert severities == {
        (22, "ORM410"): "low",
        (23, "ORM404"): "low",
        (24, "ORM404"): "low",
        (25, "ORM404"): "high",
        (27, "ORM405"): "medium",
        (28, "ORM405"): "low",
        (29, "ORM405"): "low",
    }
    messages = {f["line"]: f["message"] for f in found}  # type: ignore[index]
    assert "Genre refers to no other table, like a lookup table that stays small: the lock is brief" in messages[23]
    assert "SiteSettings is a configuration table" in messages[24]
    assert "stays small" not in messages[25]
    assert "builds index ix_reviews_stars on reviews" in messages[27]  # batch_op.f(): the name comes first
    # The alter_column of reviews two lines up holds its exclusive lock through the build; shelves is not altered.
    assert "reads and writes wait (the op.alter_column() before it holds the table's exclusive lock" in messages[27]
    assert "builds index ix_shelves_label on shelves while blocking writes to it" in messages[28]
    assert "nothing in Shelf shows it growing with use: no accounts, owners or arrival times" in messages[28]
    assert "ShelfCategory is named for a short list and shows no owners or arrival times" in messages[29]


def test_locks_after_a_not_null_column_without_default_are_low() -> None:
    """The revision adds `book.language NOT NULL` with no default: it only runs on an empty table, where the index
    and the constraints after it are instant; they are low, and the message says why (and that fixing the column
    brings the lock back)."""
    path = "alembic/versions/2b3c4d5e6f7a_add_columns_indexes_constraints.py"
    found = check_json(path, "--no-cache", cwd=MIGRATIONS)["findings"]
    severities = {(f["line"], f["code"]): f["severity"] for f in found}  # type: ignore[index]
    assert severities[(24, "ORM401")] == "high"
    assert {severities[place] for place in [(28, "ORM405"), (29, "ORM405"), (30, "ORM406"), (32, "ORM406")]} == {"low"}
    message = next(f["message"] for f in found if f["line"] == 30)  # type: ignore[index]
    assert "only succeeds on an empty table" in message and "once that column is made safe" in message


def test_a_table_is_sized_by_the_model_of_its_own_app(tmp_path: Path) -> None:
    """`AddIndex(model_name="label")` in the `annotations` app builds on annotations_label: a small `Label` of
    another app (catalog_label) says nothing of its size, so the finding keeps its severity."""
    files = {
        "pyproject.toml": "[project]\nname = 'site'\n",
        "catalog/__init__.py": "",
        "catalog/models.py": (
            "from django.db import models\n\n\nclass Label(models.Model):\n    name = models.CharField(max_length=20)\n"
        ),
        "annotations/__init__.py": "",
        "annotations/migrations/__init__.py": "",
        "annotations/migrations/0002_label_index.py": textwrap.dedent("""\
            from django.db import migrations, models


            class Migration(migrations.Migration):
                dependencies = [("annotations", "0001_initial")]
                operations = [
                    migrations.AddIndex(model_name="label", index=models.Index(fields=["text"], name="label_text")),
                ]
            """),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "catalog/migrations").mkdir()
    (tmp_path / "catalog/migrations/__init__.py").write_text("")
    (tmp_path / "catalog/migrations/0002_label_index.py").write_text(
        files["annotations/migrations/0002_label_index.py"].replace('"annotations"', '"catalog"'), encoding="utf-8"
    )
    found = check_json(".", "--no-cache", "--select", "ORM405", cwd=tmp_path)["findings"]
    severities = {f["path"].split("/")[0]: f["severity"] for f in found}  # type: ignore[index]
    assert severities == {"annotations": "medium", "catalog": "low"}


def test_the_history_is_the_same_whatever_order_and_workers_read_it() -> None:
    """Each migration's history (the schema before it) is kept for the migrations after it when files are checked in
    order, read from disk otherwise: every file's findings are the same checked in order on one core, on two
    workers (files shared out across them, out of order in each) and one file at a time."""
    folder = "library/migrations"
    files = sorted(p.relative_to(MIGRATIONS).as_posix() for p in (MIGRATIONS / folder).glob("0*.py"))

    def places(*args: str) -> list[tuple[object, ...]]:
        found = check_json(*args, "--no-cache", "--migrations", "all", cwd=MIGRATIONS)["findings"]
        return sorted((f["path"], f["line"], f["code"], f["severity"], f["message"]) for f in found)  # type: ignore

    in_order = places("--jobs", "1", *files)
    assert in_order
    assert places("--jobs", "2", *files) == in_order
    assert sorted(p for file in files for p in places(file)) == in_order


_LOCKS = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.AddIndex(model_name="book", index=models.Index(fields=["title"], name="book_title_idx")),
        migrations.AddConstraint(
            model_name="book",
            constraint=models.UniqueConstraint(
                fields=["isbn"], condition=models.Q(isbn__isnull=False), name="book_isbn_partial"
            ),
        ),
        migrations.AddConstraint(
            model_name="book", constraint=models.UniqueConstraint(fields=["title", "isbn"], name="book_title_isbn")
        ),
        migrations.AddField(
            model_name="loan",
            name="member",
            field=models.ForeignKey(null=True, on_delete=models.deletion.CASCADE, to="catalog.member"),
        ),
        migrations.AlterUniqueTogether(name="shelf", unique_together=set()),
        migrations.AddIndex(model_name="shelf", index=models.Index(fields=["code"], name="shelf_code_idx")),
    ]
"""
_LOCKS_INITIAL = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Member",
            fields=[("id", models.BigAutoField(primary_key=True)), ("joined_at", models.DateTimeField())],
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("title", models.CharField(max_length=200)),
                ("isbn", models.CharField(max_length=13, null=True)),
                ("created_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="Loan",
            fields=[("id", models.BigAutoField(primary_key=True)), ("created_at", models.DateTimeField())],
        ),
        migrations.CreateModel(
            name="Shelf",
            fields=[("id", models.BigAutoField(primary_key=True)), ("code", models.CharField(max_length=8))],
            options={"unique_together": {("code",)}},
        ),
    ]
"""


def test_the_message_says_when_reads_wait_through_an_index_build_too(tmp_path: Path) -> None:
    """CREATE INDEX blocks writes only; ALTER TABLE ... ADD CONSTRAINT UNIQUE, the ADD COLUMN before a new foreign
    key's index, and an earlier ALTER TABLE of the same migration (dropping unique_together) keep reads out too."""
    migrations = tmp_path / "catalog" / "migrations"
    migrations.mkdir(parents=True)
    for name, text in (("__init__.py", ""), ("0001_initial.py", _LOCKS_INITIAL), ("0002_locks.py", _LOCKS)):
        (migrations / name).write_text(text, encoding="utf-8")
    found = check_json("catalog/migrations/0002_locks.py", "--no-cache", "--select", "ORM405", cwd=tmp_path)
    blocking = {f["line"]: f["message"].split(" while ")[1].split(";")[0] for f in found["findings"]}  # type: ignore
    assert blocking == {
        7: "blocking writes to it",
        8: "blocking writes to it",  # a partial unique constraint is a CREATE UNIQUE INDEX
        14: "reads and writes wait (a unique constraint is added with ALTER TABLE, which holds the table's exclusive"
        " lock through the build)",
        17: "reads and writes wait (the column is added first, and that exclusive lock is held until the migration"
        " commits)",
        23: "reads and writes wait (the AlterUniqueTogether before it holds the table's exclusive lock until the"
        " migration commits)",
    }


_M2M_INITIAL = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Tag", fields=[("id", models.BigAutoField(primary_key=True))]),
        migrations.CreateModel(name="Post", fields=[("id", models.BigAutoField(primary_key=True))]),
        migrations.CreateModel(
            name="PostLike",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("post", models.ForeignKey(on_delete=models.deletion.CASCADE, to="forum.post")),
            ],
        ),
        migrations.AddField(model_name="post", name="tags", field=models.ManyToManyField(to="forum.tag")),
        migrations.AddField(
            model_name="post", name="liked_by", field=models.ManyToManyField(through="forum.PostLike", to="forum.tag")
        ),
    ]
"""
_M2M_REMOVED = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("forum", "0001_initial")]
    operations = [
        migrations.RemoveField(model_name="post", name="tags"),
        migrations.RemoveField(model_name="post", name="liked_by"),
        migrations.DeleteModel(name="PostLike"),
    ]
"""


def test_removing_a_many_to_many_field_drops_its_join_table_unless_a_through_model_holds_it(tmp_path: Path) -> None:
    migrations = tmp_path / "forum" / "migrations"
    migrations.mkdir(parents=True)
    for name, text in (("__init__.py", ""), ("0001_initial.py", _M2M_INITIAL), ("0002_drop.py", _M2M_REMOVED)):
        (migrations / name).write_text(text, encoding="utf-8")
    found = check_json("forum/migrations/0002_drop.py", "--no-cache", "--select", "ORM402", cwd=tmp_path)
    assert [(f["line"], f["message"].split(" while")[0]) for f in found["findings"]] == [  # type: ignore[union-attr]
        (7, "RemoveField drops the join table of many-to-many field post.tags"),
        (9, "DeleteModel drops the table of model postlike"),
    ]


_LOCK_LOOK_ALIKES = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.AddField(model_name="member", name="books", field=models.ManyToManyField(to="catalog.book")),
        migrations.AddIndex(model_name="member", index=models.Index(fields=["joined_at"], name="member_joined")),
        migrations.AlterField(model_name="shelf", name="code", field=models.CharField(max_length=20, db_index=True)),
        migrations.AddConstraint(
            model_name="loan", constraint=models.CheckConstraint(condition=models.Q(id__gt=0), name="loan_id")
        ),
        migrations.AddIndex(model_name="loan", index=models.Index(fields=["created_at"], name="loan_created")),
    ]
"""


def test_what_only_looks_like_an_exclusive_lock_is_told_apart(tmp_path: Path) -> None:
    """A many-to-many field alters another table (its join table), so the member index blocks writes only; widening
    a column still runs ALTER COLUMN before the index; a CHECK constraint is an ALTER TABLE of the loan table."""
    migrations = tmp_path / "catalog" / "migrations"
    migrations.mkdir(parents=True)
    for name, text in (("__init__.py", ""), ("0001_initial.py", _LOCKS_INITIAL), ("0002_more.py", _LOCK_LOOK_ALIKES)):
        (migrations / name).write_text(text, encoding="utf-8")
    found = check_json("catalog/migrations/0002_more.py", "--no-cache", "--select", "ORM405", cwd=tmp_path)
    findings: list[dict[str, Any]] = found["findings"]  # type: ignore[assignment]
    blocking = {f["line"]: f["message"].split(" while ")[1].split(" (")[0].split(";")[0] for f in findings}
    assert blocking == {8: "blocking writes to it", 9: "reads and writes wait", 13: "reads and writes wait"}
