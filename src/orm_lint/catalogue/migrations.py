"""Migration rules (ORM4xx): schema changes that lose data, break the running release or lock tables."""

from __future__ import annotations

from .model import ALL_FRAMEWORKS, Category, Docs, Engine, Framework, Rule, Severity

_DJANGO_AND_ALEMBIC = ALL_FRAMEWORKS  # Alembic serves SQLAlchemy, SQLModel and Flask-SQLAlchemy alike
_DJANGO_FILE = "library/migrations/0002_example.py"
_ALEMBIC_FILE = "alembic/versions/3f2a9c1d7b10_example.py"


def _reviewed(code: str) -> str:
    return (
        " By default only migrations new on the branch are checked (in git: added or changed since the "
        "merge base with the default branch, or not committed; every migration outside git): the "
        '`migrations = "all"` setting or `orm-lint check --migrations all` reviews the history too.'
        f" Once a reviewer has decided the operation is fine here (the table is small, or the deploy "
        f"has a maintenance window), mark it reviewed with `# noqa: {code}` on the line where the "
        "operation starts; the mark stays in the file for the next reader."
    )


_NOT_REPORTED = (
    " Never reported: the same operation in Alembic's `downgrade()`, on a table created earlier in "
    "the same migration (`CreateModel`, `op.create_table`, also when the table's name is computed, "
    'as `f"{prefix}session"`, from names bound once), in '
    "`SeparateDatabaseAndState(state_operations=...)`, in a squashed migration (one with "
    "`replaces = [...]`: Django runs it only on a database that has none of the replaced "
    "migrations, i.e. a new, empty one), in one of an app's initial migrations (`initial = True` "
    "after only initial migrations of its app: makemigrations splits the first migration when "
    "models refer to each other, and `0002` adds foreign keys to the tables `0001` just created, "
    "all empty), or on a proxy or `managed = False` model (known from "
    "the `CreateModel` options in the app's earlier migrations), for which Django runs no SQL."
)
# ORM402-ORM406 (flake8_plugin/checks/migrations.py asks for it; migration_scope.new_with_its_table decides).
_SAME_RELEASE = (
    " Nor when git shows the table (for a dropped or renamed column: the column) came in the same release as "
    "this migration, so that it is empty when the migration runs and no deployed code uses it. Git is asked "
    "about commits, not paths, so a moved app or a renamed revision keeps its history: for a migration new on "
    "the branch, the one with the table's `CreateModel` or `op.create_table` (or the column's `AddField` or "
    "`add_column`) must have been added on the branch too, not moved there; for an older one, some release tag "
    "in the branch's history must hold that migration's first commit, and every such tag this one's too "
    "(pre-releases such as `v2.0b1` count only before the first release). A squashed migration, an unmanaged "
    "or proxy model, an Alembic `create_table` under an `if`, tables that no release has yet (a project "
    "deployed from its default branch may have them), and any git failure keep the finding."
)
_OTHER_DIALECT = (
    " Alembic operations inside an `if` branch that runs only on another database "
    '(`if op.get_bind().dialect.name == "mysql":`, `if url.startswith("sqlite"):`, the `else` of '
    "a PostgreSQL test) are not reported."
)
_ALL_BACKENDS = " Reported whatever the `backend` setting says: every database is affected."
# How the lock-bound rules judge the table's size (flake8_plugin/checks/migrations.py, project/table_size.py).
_SMALL_TABLES = (
    " On a table whose model looks like it stays small (a lookup or configuration table: no foreign key, no"
    " account columns, and named for settings, or no column saying when a row came, or named and shaped like"
    " a short list) the finding is low and says so: the lock is brief."
)
_EMPTY_TABLE = (
    " After a NOT NULL column without a default is added to the same table in the same migration (ORM401's"
    " finding), the migration only gets there on an empty table: low, and the message says the lock comes back"
    " once that column is made safe."
)
_POSTGRESQL_ONLY = (
    " PostgreSQL-specific: reported when the `backend` setting in `[tool.orm-lint]` is `postgresql` or "
    "is not set (most production Django/Alembic projects run PostgreSQL); silent for `mysql` and `sqlite`."
)
_HOW_TO_TEST_LOCKS = (
    "Apply the migration to a copy of production (or a table filled with a realistic number of rows) "
    "while a second session inserts and updates rows in a loop; the writer must not stall. "
    "`SELECT * FROM pg_locks WHERE relation = 'table'::regclass` during the migration shows the lock taken. "
    "`python manage.py sqlmigrate app 0002` / `alembic upgrade --sql` prints the exact statements."
)
_DJANGO_OPERATIONS = "https://docs.djangoproject.com/en/stable/ref/migration-operations/"
_ALEMBIC_OPERATIONS = "https://alembic.sqlalchemy.org/en/latest/ops.html"
_ALTER_TABLE = "https://www.postgresql.org/docs/current/sql-altertable.html"

NOT_NULL_COLUMN_WITHOUT_DEFAULT = Rule(
    code="ORM401",
    name="not-null-column-without-default",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.HIGH,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A NOT NULL column without a default is added to a table that already has rows.",
    message="{operation} adds NOT NULL column {column} without a default to a table that may have rows; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `AddField` of one of Django's own field classes that is NOT NULL (no "
            "`null=True`) and has neither `default=` nor `db_default=`, and Alembic "
            "`op.add_column()` / `batch_op.add_column()` with `Column(..., nullable=False)` and no "
            "`server_default`. Not reported, because Django's schema editor gives the existing rows a "
            "value (`BaseDatabaseSchemaEditor._effective_default`, the same cases in which "
            "`makemigrations` asks for no default): `blank=True` on a field that allows empty strings "
            "(`CharField`, `TextField`, `SlugField`, `EmailField`, `URLField`, `FileField`, "
            "`FilePathField`, `BinaryField`; added with `DEFAULT ''`), `auto_now`/`auto_now_add` "
            "date and time fields (the current time), and `NullBooleanField` (always nullable). "
            "Many-to-many fields, `GeneratedField`, auto fields, primary keys and "
            "`Computed`/`Identity` columns need no default. A `default=` with `preserve_default=False` "
            "(the one-off value makemigrations asks for) is reported: it fills today's rows, but the "
            "model has no default and Django drops the column's default at once, so the previous "
            "release's inserts fail. A field class from another package or the "
            "project (`TaggableManager`, `CountryField`, a `CharField` subclass) is not reported "
            "either: whether it has a column, and whether its `blank=True` means a default, is "
            "unknown." + _NOT_REPORTED + _ALL_BACKENDS + _reviewed("ORM401")
        ),
        why_bad=(
            "Existing rows have no value for the new column. PostgreSQL and SQLite refuse the "
            "statement on a table with rows, so the deploy fails half-way; MySQL fills a type default "
            "(`0`, `''`) silently and copies the table. Even when it works, the code still running "
            "the previous release inserts rows without the column and fails. (With Django's "
            "`default=` the column is filled, but Django then drops the database default again: "
            "prefer `db_default=`.)"
        ),
        fix_steps=(
            "Add the column so that existing rows and old code stay valid: Django `null=True` or "
            "`db_default=<constant>` (PostgreSQL 11+ adds a column with a constant default without "
            "rewriting the table); Alembic `nullable=True` or `server_default=sa.text(...)`.",
            "Deploy code that writes the new column.",
            "Backfill existing rows in batches (a data migration with `bulk_update()` or a "
            "set-based `UPDATE ... WHERE id BETWEEN ...`).",
            "Make it NOT NULL in a later migration, the safe way (see ORM404): a `CHECK (col IS NOT "
            "NULL) NOT VALID` constraint, `VALIDATE CONSTRAINT`, then `SET NOT NULL`.",
        ),
        how_to_test=(
            "Apply the migration to a database that already has rows in the table (a fixture or a "
            "copy of production) while the previous release's code inserts rows; both must succeed."
        ),
        references=(
            _DJANGO_OPERATIONS + "#addfield",
            "https://docs.djangoproject.com/en/stable/ref/models/fields/#db-default",
            _ALEMBIC_OPERATIONS + "#alembic.operations.Operations.add_column",
            _ALTER_TABLE,
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(max_length=13),
        ),
    ]
""",
    good_example="""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="isbn",
            field=models.CharField(max_length=13, null=True),
        ),
    ]
""",
)

COLUMN_OR_TABLE_DROPPED = Rule(
    code="ORM402",
    name="column-or-table-dropped",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.CRITICAL,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A column or table is dropped in the same release that stops using it.",
    message="{operation} drops {target} while the deployed code may still use it; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `RemoveField` and `DeleteModel`, and Alembic `op.drop_column()`, "
            "`batch_op.drop_column()` and `op.drop_table()`. Operations inside "
            "`SeparateDatabaseAndState` (either list) are the deliberate contract step of the "
            "expand/contract sequence and are not reported. So is a migration that declares it runs "
            "after the deploy: django-safemigrate `safe = Safe.after_deploy()` (its `safemigrate` "
            "command holds such migrations back until the new code is live; the plain `migrate` "
            "then runs them) or `Safe.always()` (declared safe before and after the deploy), and "
            "django-syzygy `stage = Stage.POST_DEPLOY`. `Safe.before_deploy()` is reported as usual. "
            "A model deleted in the migration is one finding, on its `DeleteModel`: the `RemoveField` "
            "operations makemigrations writes first for that model's relations are part of the same drop. "
            "A `RemoveField` of a many-to-many field drops its join table, and the message says so; with "
            "`through=` naming the project's own model it runs no SQL and is not reported (that model's "
            "`DeleteModel` is)." + _NOT_REPORTED + _SAME_RELEASE + _ALL_BACKENDS + _reviewed("ORM402")
        ),
        why_bad=(
            "Migrations run before (or while) the new code is rolled out, so the previous release is "
            "still serving requests: Django selects every field of a model, so each query of the old "
            "code fails with `column does not exist` until the deploy completes. A drop also cannot "
            "be rolled back: the data is gone."
        ),
        fix_steps=(
            "Release 1: remove every use of the field or model from the code. In Django, remove the "
            "field from the model and wrap the generated operation in "
            "`SeparateDatabaseAndState(state_operations=[migrations.RemoveField(...)])` so the "
            "column stays in the database (make it nullable first if it is NOT NULL, so inserts "
            "from the new code succeed).",
            "Release 2 (after release 1 is fully deployed): drop it: "
            "`SeparateDatabaseAndState(database_operations=[migrations.RunSQL('ALTER TABLE ... DROP "
            "COLUMN ...', reverse_sql=...)])` in Django, `op.drop_column()` in Alembic, with a "
            "`# noqa: ORM402` marking the reviewed contract step.",
            "Take a backup (or copy the data to an archive table) before the drop.",
        ),
        how_to_test=(
            "Run the previous release's test suite against the migrated schema (old code, new "
            "database): it must pass. That is what production looks like during the deploy."
        ),
        references=(
            _DJANGO_OPERATIONS + "#separatedatabaseandstate",
            _ALEMBIC_OPERATIONS + "#alembic.operations.Operations.drop_column",
            "https://martinfowler.com/bliki/ParallelChange.html",
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="book", name="subtitle"),
    ]
""",
    good_example='''\
from django.db import migrations


class Migration(migrations.Migration):
    """Release 1: Django forgets the field; the column stays until release 2 drops it."""

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField(model_name="book", name="subtitle")],
        ),
    ]
''',
)

COLUMN_OR_TABLE_RENAMED = Rule(
    code="ORM403",
    name="column-or-table-renamed",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.HIGH,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A column or table is renamed while the deployed code still uses the old name.",
    message="{operation} renames {target} while the deployed code still uses the old name; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `RenameField`, `RenameModel`, `AlterModelTable` and an `AlterField` that "
            "changes `db_column`, and Alembic `op.alter_column(..., new_column_name=...)` and "
            "`op.rename_table()`. A `RenameField` whose field has `db_column=`, a `RenameModel` "
            "whose model has `db_table`, and an `AlterModelTable` that names the table the model has "
            "already (`table=None` on a model whose table has Django's default name `app_model`) "
            "change nothing in the database and are not reported: orm-lint reads the app's earlier "
            "migration files to know. `AlterModelTable(table=None)` on a model with a `db_table` "
            "renames the table back to its default name, and says so. An Alembic rename of a column "
            "added earlier in the same `upgrade()`, and a Django `RenameField` or `AlterField` of a field "
            "an `AddField` added earlier in the same migration (`AddField(new_x)`, copy, "
            "`RemoveField(x)`, `RenameField(new_x, x)`), are not reported (no deployed code knew that "
            "name; dropping the column it replaces is ORM402). Operations inside "
            "`SeparateDatabaseAndState` are not reported, and neither are later renames of what its "
            "`state_operations` alone declared (a field, or a model moved in from another app): which "
            "column or table the deployed code uses, the SQL beside them decided. A `ForeignKey` "
            "subclass (`TreeForeignKey`) keeps the `<name>_id` column. A rename in a django-safemigrate "
            "`Safe.after_deploy()` migration is reported: the new code, already live, uses the new "
            "name until it runs." + _NOT_REPORTED + _SAME_RELEASE + _ALL_BACKENDS + _reviewed("ORM403")
        ),
        why_bad=(
            "The rename is instant, but the previous release keeps running during the deploy and "
            "every query it sends names the old column or table, so it fails until the last old "
            "process is gone. Rolling back the code after the migration fails the same way."
        ),
        fix_steps=(
            "Cheapest in Django: rename only in Python and keep the database name: "
            '`models.CharField(db_column="old_name")` for a field, `Meta.db_table = "old_table"` '
            "for a model. No column moves.",
            "Otherwise expand and contract. Expand: add the new column (nullable) or table; deploy code "
            "that writes both names.",
            "Backfill the new column from the old one in batches; switch reads to the new name.",
            "Contract, in a later release: stop writing the old name, then drop it (see ORM402).",
        ),
        how_to_test=(
            "Run the previous release's tests against the migrated schema, and the new release's "
            "tests against the schema before the migration's contract step: both must pass."
        ),
        references=(
            _DJANGO_OPERATIONS + "#renamefield",
            _ALEMBIC_OPERATIONS + "#alembic.operations.Operations.alter_column",
            "https://martinfowler.com/bliki/ParallelChange.html",
        ),
    ),
    example_filename=_ALEMBIC_FILE,
    bad_example='''\
"""rename book.title to name

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.alter_column("book", "title", new_column_name="name")


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("book", "name", new_column_name="title")
''',
    good_example='''\
"""add book.name next to book.title (expand)

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("book", sa.Column("name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("book", "name")
''',
)

COLUMN_TYPE_OR_NULLABILITY_CHANGED = Rule(
    code="ORM404",
    name="column-type-or-nullability-changed",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.HIGH,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A column's type is changed or it is made NOT NULL in place, locking the table.",
    message="{operation} {change}, which rewrites or scans the whole table under an exclusive lock{scale}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `AlterField` that changes the column's SQL type or turns a nullable field "
            "NOT NULL, and Alembic `op.alter_column()` with `type_=` (different from "
            "`existing_type=`) or `nullable=False` (unless `existing_nullable=False`). For Django, "
            "the previous definition is read from the app's earlier migration files (the "
            "`dependencies` on the app named like the folder above `migrations/`, including lists of "
            "operations assigned to a name beside `operations`), and the two fields are compared by "
            "the column each has on PostgreSQL, not by their class: `CharField`, `SlugField`, "
            "`EmailField` and `URLField` of the same length are all `varchar(n)`; "
            "`PositiveIntegerField` is `integer` plus `CHECK (col >= 0)` (adding the check is "
            "reported, dropping it is not); `NullBooleanField` is a nullable boolean; the target of a "
            "foreign key is compared without regard to letter case. Also compared: `max_length`, "
            "`max_digits`, `decimal_places`, `db_collation`, `to_field`, `primary_key`, and an "
            "`ArrayField`'s `base_field` type. So an `AlterField` that only changes `help_text`, "
            "`choices`, `default` or validators is not reported. Not reported either: many-to-many "
            "fields (no column on the table); a change to or from a field class that is not Django's "
            "own (a project's `SanitizedJSONField`, `TaggableManager`: its column type is unknown); "
            "a length computed by an expression (`max_length=settings.CODE_LENGTH`); and an "
            "`AlterField` whose previous definition cannot be found (the app's history is not in the "
            "tree): orm-lint cannot tell whether it changes anything, and does not guess. "
            "Lengthening a varchar (or varchar to text) and more digits at the same scale (Django "
            "`max_digits` up with the same `decimal_places`, Alembic `Numeric(10, 2)` to "
            "`Numeric(12, 2)` or to an unconstrained `Numeric()`) are not reported for PostgreSQL or "
            "an unset backend (PostgreSQL changes only the catalogue), but are for `mysql` and "
            "`sqlite`, which may copy the table; so is a change of field class there. Making a column "
            "NOT NULL in the same migration that drops a check constraint of that table (the last "
            "step of the safe sequence below) is not reported. Changing `db_collation` is reported: "
            "PostgreSQL rebuilds the column's indexes."
            + _SMALL_TABLES
            + _NOT_REPORTED
            + _SAME_RELEASE
            + _reviewed("ORM404")
        ),
        why_bad=(
            "On PostgreSQL most type changes rewrite the table and its indexes, and `SET NOT NULL` "
            "scans every row, both under an ACCESS EXCLUSIVE lock: no reads or writes for the "
            "duration, minutes on a large table. MySQL copies the table for most type changes, and "
            "Django on SQLite rebuilds it. The running code may also not handle the new type."
        ),
        fix_steps=(
            "NOT NULL on PostgreSQL 12+: add `CHECK (col IS NOT NULL) NOT VALID` (Django: "
            "`AddConstraintNotValid`, Alembic: `op.create_check_constraint(..., "
            "postgresql_not_valid=True)`); it takes a brief lock only.",
            "In the next migration `VALIDATE CONSTRAINT` (Django `ValidateConstraint`): scans without blocking writes.",
            "Then `SET NOT NULL` (PostgreSQL uses the valid constraint and skips the scan) and drop "
            "the check constraint in the same migration.",
            "Type change: expand and contract: add a new column of the new type, write both, "
            "backfill in batches, switch reads, then drop the old column (ORM402).",
        ),
        how_to_test=_HOW_TO_TEST_LOCKS,
        references=(
            _DJANGO_OPERATIONS + "#alterfield",
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#adding-constraints-without-enforcing-validation",
            _ALTER_TABLE,
        ),
    ),
    example_filename=_ALEMBIC_FILE,
    bad_example='''\
"""make book.isbn not null

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.alter_column("book", "isbn", existing_type=sa.VARCHAR(length=13), nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("book", "isbn", existing_type=sa.VARCHAR(length=13), nullable=True)
''',
    good_example='''\
"""make book.isbn not null (the check constraint was validated in the previous revision)

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.alter_column("book", "isbn", existing_type=sa.VARCHAR(length=13), nullable=False)
    op.drop_constraint("ck_book_isbn_not_null", "book", type_="check")


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("book", "isbn", existing_type=sa.VARCHAR(length=13), nullable=True)
''',
)

INDEX_CREATED_WITHOUT_CONCURRENTLY = Rule(
    code="ORM405",
    name="index-created-without-concurrently",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.MEDIUM,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="An index (or unique constraint) is built on PostgreSQL without CONCURRENTLY, blocking writes.",
    message="{operation} builds {index} on {table} while {blocking}{scale}; {fix}",
    message_defaults={"blocking": "blocking writes to it"},
    docs=Docs(
        what_it_does=(
            "Reports Django `AddIndex`, `AddConstraint(UniqueConstraint(...))`, `AddField` with "
            "`unique=True` or `db_index=True`, and an `AlterField` that adds an index, a unique "
            "constraint or a primary key (compared with the earlier migrations as Django's schema "
            "editor does: `unique=True` on a field that is already the primary key builds nothing), "
            "and Alembic `op.create_index()` without `postgresql_concurrently=True`, "
            "`op.create_unique_constraint()`, and `op.add_column()` of a `Column(index=True)` or "
            "`Column(unique=True)` (Alembic creates that index right after the column). "
            "`AddIndexConcurrently` (with `atomic = False` on the Migration, which Django requires) "
            "is the safe form and is not reported. The index Django creates implicitly when "
            "`AddField` adds a `ForeignKey` or `SlugField` (unless `db_index=False`), or the unique "
            "index of a `OneToOneField`, is reported too: it is the same `CREATE INDEX` on an "
            "existing table as `AddIndex` or Alembic's `create_index()`, built at the end of the "
            "migration; add the field with `db_index=False` and the index concurrently."
            + _NOT_REPORTED
            + _SAME_RELEASE
            + _OTHER_DIALECT
            + _SMALL_TABLES
            + " A build's cost is all size, so an index on a table whose model shows no sign of growing with use"
            " (no account, no owner foreign key such as `user` or `author`, no column recording when each row"
            " arrived, no parent row in a table that shows one of these) is low too, and says so."
            + _EMPTY_TABLE
            + _POSTGRESQL_ONLY
            + _reviewed("ORM405")
        ),
        why_bad=(
            "A plain `CREATE INDEX` holds a SHARE lock for the whole build: every INSERT, UPDATE and "
            "DELETE on the table waits, for minutes on a large table, and requests pile up behind it. "
            "Reads go on, as while ORM406's constraint is validated, and how long writes wait depends on "
            "the table's size, which the migration does not show: medium. Reads wait through the build too, "
            "and the message says so, when the table's exclusive lock is held: a unique constraint added "
            "with `ALTER TABLE ... ADD CONSTRAINT` (Django's `unique=True`, `unique_together` and "
            "`UniqueConstraint(fields=...)`, Alembic's `create_unique_constraint()`) takes it for the whole "
            "build; so does the `ADD COLUMN` an `AddField` or `add_column()` runs before its index, the "
            "`ALTER COLUMN` of an `AlterField` that also changes the column, and any earlier step of the "
            "same migration that altered the table (a column added, altered, renamed or dropped, not a "
            "many-to-many field's, whose join table is another; a CHECK or `ALTER TABLE` unique constraint "
            "added; a constraint, `unique_together` or index dropped), all held until the migration commits. "
            "(MySQL/InnoDB "
            "builds indexes online and SQLite has no concurrent writers, hence PostgreSQL only.)"
        ),
        fix_steps=(
            "Django: replace `AddIndex` with `django.contrib.postgres.operations.AddIndexConcurrently` "
            "and set `atomic = False` on the Migration (CONCURRENTLY cannot run in a transaction); "
            "keep that migration to the index alone.",
            "Alembic: `op.create_index(..., postgresql_concurrently=True)` inside "
            "`with op.get_context().autocommit_block():`.",
            "Unique constraint: `CREATE UNIQUE INDEX CONCURRENTLY ix ON t (col)`, then "
            "`ALTER TABLE t ADD CONSTRAINT uq UNIQUE USING INDEX ix` (Django: both as `RunSQL` in "
            "`SeparateDatabaseAndState(database_operations=...)` with `AddConstraint` in "
            "`state_operations`).",
            "If a concurrent build fails it leaves an INVALID index: drop it and run the migration again.",
        ),
        how_to_test=_HOW_TO_TEST_LOCKS,
        references=(
            "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations",
            "https://alembic.sqlalchemy.org/en/latest/api/runtime.html"
            "#alembic.runtime.migration.MigrationContext.autocommit_block",
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["published"], name="book_published_idx"),
        ),
    ]
""",
    good_example="""\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("library", "0001_initial")]

    operations = [
        AddIndexConcurrently(
            model_name="book",
            index=models.Index(fields=["published"], name="book_published_idx"),
        ),
    ]
""",
)

CONSTRAINT_ADDED_WITHOUT_NOT_VALID = Rule(
    code="ORM406",
    name="constraint-added-without-not-valid",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.MEDIUM,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A CHECK or FOREIGN KEY constraint is added to an existing table and validated under a lock.",
    message="{operation} adds {constraint} to {table} and checks every row under a lock{scale}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `AddConstraint(CheckConstraint(...))` and Alembic "
            "`op.create_foreign_key()` / `op.create_check_constraint()` without "
            "`postgresql_not_valid=True`. Django's `AddConstraintNotValid` is the safe form and is "
            "not reported. Unique constraints build an index and are reported by ORM405. Foreign "
            "keys of new columns: Django adds a `ForeignKey`'s constraint inside `ADD COLUMN`, and "
            "PostgreSQL does not check the existing rows when the new column has no default (they are "
            "all NULL), so `AddField(ForeignKey(null=True))` is not reported; with `default=` or "
            "`db_default=` every row gets a value to check, and it is. Alembic's "
            "`op.add_column(Column(..., ForeignKey(...)))` adds the constraint with a separate "
            "`ALTER TABLE ... ADD CONSTRAINT`, which checks every row, and is reported (unless "
            "`inline_references=True` puts it inside `ADD COLUMN` of a column without a "
            "`server_default`)."
            + _SMALL_TABLES
            + _EMPTY_TABLE
            + _NOT_REPORTED
            + _SAME_RELEASE
            + _OTHER_DIALECT
            + _POSTGRESQL_ONLY
            + _reviewed("ORM406")
        ),
        why_bad=(
            "PostgreSQL checks every existing row while holding a lock that blocks writes to the "
            "table (and, for a foreign key, to the referenced table too): on a large table the "
            "application stalls for the whole scan."
        ),
        fix_steps=(
            "Add the constraint without checking old rows: Django "
            "`django.contrib.postgres.operations.AddConstraintNotValid`, Alembic "
            "`postgresql_not_valid=True` (`ALTER TABLE ... ADD CONSTRAINT ... NOT VALID`). New and "
            "updated rows are checked from then on; the lock is brief.",
            "Validate in a separate migration: Django `ValidateConstraint`, Alembic "
            '`op.execute("ALTER TABLE t VALIDATE CONSTRAINT c")`. It scans without blocking writes.',
            "Fix rows that violate it before validating (a data migration), or validation fails.",
        ),
        how_to_test=_HOW_TO_TEST_LOCKS,
        references=(
            _ALTER_TABLE,
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#adding-constraints-without-enforcing-validation",
            _ALEMBIC_OPERATIONS + "#alembic.operations.Operations.create_foreign_key",
        ),
    ),
    example_filename=_ALEMBIC_FILE,
    bad_example='''\
"""loan.book_id references book

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_foreign_key("fk_loan_book", "loan", "book", ["book_id"], ["id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint("fk_loan_book", "loan", type_="foreignkey")
''',
    good_example='''\
"""loan.book_id references book (validated in the next revision)

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_foreign_key("fk_loan_book", "loan", "book", ["book_id"], ["id"], postgresql_not_valid=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint("fk_loan_book", "loan", type_="foreignkey")
''',
)

MIGRATION_WITHOUT_REVERSE = Rule(
    code="ORM407",
    name="migration-without-reverse",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.MEDIUM,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A migration step has no reverse, so a rollback fails or silently does nothing.",
    message="{operation} has no reverse: {consequence}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports Django `RunPython` without `reverse_code` and `RunSQL` without `reverse_sql` "
            "(an explicit `RunPython.noop` / `RunSQL.noop` is a decision and is accepted), and an "
            "Alembic `downgrade()` whose body is empty (`pass`, a docstring, `...`) while `upgrade()` "
            "runs `op` directives. A revision that only changes rows (`op.execute` of an UPDATE, "
            "INSERT or DELETE, `op.bulk_insert`) may leave `downgrade()` empty: there is no schema to "
            "take back. A `downgrade()` that raises (for example `NotImplementedError`) "
            "declares the revision irreversible on purpose and is not reported." + _ALL_BACKENDS + _reviewed("ORM407")
        ),
        why_bad=(
            "Rolling back a bad deploy is when the reverse is needed, and the worst moment to "
            "discover it is missing: Django raises `IrreversibleError` and stops, and Alembic "
            "records the downgrade as done while the schema keeps the upgrade's changes, so the "
            "next upgrade fails on a column that already exists."
        ),
        fix_steps=(
            "Write the reverse: `RunPython(forwards, backwards)`, `RunSQL(sql, reverse_sql=...)`, "
            "the reverse `op` calls in `downgrade()` (`alembic revision --autogenerate` writes them "
            "for schema changes).",
            "When nothing needs undoing (a backfill of a column the reverse drops anyway), say so: "
            "`migrations.RunPython.noop` / `migrations.RunSQL.noop`.",
            "When it really cannot be undone, make it explicit: `raise NotImplementedError(...)` in "
            "`downgrade()`, so a rollback stops with a clear message.",
        ),
        how_to_test=(
            "Migrate forwards, backwards and forwards again in CI: `python manage.py migrate app "
            "<previous>` then `migrate app`; `alembic upgrade head && alembic downgrade -1 && "
            "alembic upgrade head`."
        ),
        references=(
            _DJANGO_OPERATIONS + "#runpython",
            "https://alembic.sqlalchemy.org/en/latest/tutorial.html#downgrading",
        ),
    ),
    example_filename=_ALEMBIC_FILE,
    bad_example='''\
"""add book.language

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("book", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    pass
''',
    good_example='''\
"""add book.language

Revision ID: 3f2a9c1d7b10
Revises: 1a2b3c4d5e6f
Create Date: 2025-01-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3f2a9c1d7b10"
down_revision: Union[str, Sequence[str], None] = "1a2b3c4d5e6f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("book", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("book", "language")
''',
)

ROW_BY_ROW_DATA_MIGRATION = Rule(
    code="ORM408",
    name="row-by-row-data-migration",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.MEDIUM,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="A data migration writes one row per loop iteration.",
    message="{call} writes one row per iteration in a data migration; {fix}",
    docs=Docs(
        what_it_does=(
            "In the functions a Django migration passes to `RunPython` (forwards), reports "
            "`.save()`, `.delete()`, `.create()`, `.get_or_create()`, `.update_or_create()` and "
            "`QuerySet.update()` called inside a loop or comprehension; in an Alembic `upgrade()`, "
            "reports `execute()` on `op` or a connection inside a loop, unless the statement only reads "
            "(SQL text that is a `SELECT`, through `text(...)` and `.bindparams()`, or a `select()` "
            "construct: a lookup per row is a query, not a write). Loops over a literal list or "
            "an `UPPER_CASE` constant (seeding a handful of fixed rows) and batch loops "
            "(`for start in range(0, n, 1000)`, or a body that also writes with `bulk_*`/`executemany`) "
            "are not reported, nor are reverse functions and `downgrade()`. (The general query-in-loop rules do not run on migrations; this is "
            "their migration counterpart.)" + _ALL_BACKENDS + _reviewed("ORM408")
        ),
        why_bad=(
            "One statement per row: a migration over a million rows sends a million round trips, "
            "runs for hours, and (inside the migration's transaction) holds row locks and a growing "
            "transaction the whole time, so the deploy blocks and a failure rolls everything back."
        ),
        fix_steps=(
            "Express it as one set-based statement when possible: `Model.objects.filter(...)"
            ".update(col=F(...))`, or an `UPDATE ... FROM` / `INSERT ... SELECT` in SQL.",
            "Otherwise process in batches: iterate with `.iterator(chunk_size=1000)` or by primary "
            "key ranges, change objects in memory and `bulk_update(objs, fields, batch_size=1000)` "
            "/ `bulk_create(objs, batch_size=1000)`; in Alembic, `executemany` with a list of "
            "parameters.",
            "For very large tables, run the backfill outside the migration (a management command "
            "or job, `atomic = False`) so the deploy does not wait for it.",
        ),
        how_to_test=(
            "Run the migration on a table with a few thousand rows and count the statements "
            "(`CaptureQueriesContext` in Django, a `before_cursor_execute` listener in SQLAlchemy): "
            "the count must not grow with the number of rows beyond one per batch."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/howto/writing-migrations/#migrations-that-add-unique-fields",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-update",
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
from django.db import migrations


def fill_slugs(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.filter(slug=""):
        book.slug = book.title.lower().replace(" ", "-")
        book.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(fill_slugs, migrations.RunPython.noop)]
""",
    good_example="""\
from django.db import migrations


def fill_slugs(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    batch = []
    for book in Book.objects.filter(slug="").iterator(chunk_size=1000):
        book.slug = book.title.lower().replace(" ", "-")
        batch.append(book)
    Book.objects.bulk_update(batch, ["slug"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(fill_slugs, migrations.RunPython.noop)]
""",
)

RUN_SQL_BUILT_FROM_STRINGS = Rule(
    code="ORM409",
    name="run-sql-built-from-strings",
    problem="raw_sql",
    category=Category.MIGRATIONS,
    severity=Severity.HIGH,
    frameworks=(Framework.DJANGO,),
    engine=Engine.FLAKE8,
    summary="The SQL of a RunSQL operation is formatted from values that can come from outside.",
    message="SQL passed to {sink} is built with {how} from {value}; {fix}",
    docs=Docs(
        what_it_does=(
            "Follows the `sql` and `reverse_sql` of Django's `RunSQL` (a string, a list of strings "
            "or of `(sql, params)` pairs) with the same analysis as ORM201: SQL built with an "
            "f-string, `%`, `.format()`, `+` or `join` from a value that is not trusted (an "
            "environment variable, a function's result, a parameter) is reported; constants, "
            "`UPPER_CASE` settings and loops over constant lists are trusted, and, as for ORM201, "
            "DDL (`CREATE`, `ALTER`, `DROP` ...) is not reported: its variable parts are identifiers, "
            "which cannot be parameters. SQL run with "
            "`op.execute()`, `schema_editor.execute()` or `cursor.execute()` in a migration is "
            "reported by ORM201, which also runs on migrations." + _ALL_BACKENDS + _reviewed("ORM409")
        ),
        why_bad=(
            "A migration runs with the schema owner's privileges, on every environment. A value "
            "spliced into the SQL text that contains a quote changes the statement: at best the "
            "deploy fails, at worst it runs a different statement with full rights."
        ),
        fix_steps=(
            "Keep the SQL text constant with `%s` placeholders and pass the values as params: "
            '`RunSQL([("UPDATE t SET x = %s WHERE y = %s", [value, other])])`.',
            "For identifiers (table or schema names) choose from a fixed set of constants, or quote "
            "them with `schema_editor.quote_name()` in a `RunPython` function.",
        ),
        how_to_test=(
            "Print the statements with `python manage.py sqlmigrate app 0002` for the value you "
            "expect and for one containing a quote; the text must not change."
        ),
        references=(
            _DJANGO_OPERATIONS + "#runsql",
            "https://owasp.org/www-community/attacks/SQL_Injection",
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
import os

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL(
            f"UPDATE library_book SET shelf = '{os.environ['DEFAULT_SHELF']}' WHERE shelf IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
""",
    good_example="""\
import os

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunSQL(
            [("UPDATE library_book SET shelf = %s WHERE shelf IS NULL", [os.environ["DEFAULT_SHELF"]])],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
""",
)

DATA_CHANGE_IN_SCHEMA_MIGRATION = Rule(
    code="ORM410",
    name="data-change-in-schema-migration",
    problem="unsafe_migration",
    category=Category.MIGRATIONS,
    severity=Severity.MEDIUM,
    frameworks=_DJANGO_AND_ALEMBIC,
    engine=Engine.FLAKE8,
    summary="SQL that changes rows runs in the same migration, and transaction, as a change to an existing table.",
    message="{operation} changes rows ({sql}) in the migration that also runs {schema}, in one transaction{scale}; {fix}",
    docs=Docs(
        what_it_does=(
            "Reports `UPDATE`, `DELETE` and `INSERT` statements in Django `RunSQL` (a string, a list "
            "of strings or of `(sql, params)` pairs) and in Alembic `op.execute()` (a string or "
            "`sa.text(...)`) when the same migration also changes an existing table (`AddField`, "
            "`AlterField`, `RemoveField`, `AddIndex`, `op.add_column()`, `op.alter_column()`, "
            "`op.create_index()` ...). Not reported: a migration that only changes data (the safe "
            "shape), a Django migration with `atomic = False` or Alembic statements inside "
            "`op.get_context().autocommit_block()` (each statement commits on its own), rows "
            "inserted into or changed in a table created earlier in the same migration (seed data "
            "in a new, empty table), SQL that is not a constant, `downgrade()`, squashed migrations. "
            "`RunPython` functions are not judged: what they do is not known from the operation. "
            "The general rules still apply to the SQL (ORM201, ORM409)."
            + _SMALL_TABLES
            + _POSTGRESQL_ONLY
            + _reviewed("ORM410")
        ),
        why_bad=(
            "A migration runs in one transaction on PostgreSQL. The `ALTER TABLE` takes an ACCESS "
            "EXCLUSIVE lock that is held until the transaction ends, so every read and write of "
            "the table waits for the whole data change, which grows with the table; in the other "
            "order the data change's row locks are held while the `ALTER` waits for its lock, and "
            "everything queues behind it. Changing rows and then altering a table with deferred "
            "constraints fails outright (`cannot ALTER TABLE because it has pending trigger "
            "events`). And a failure in the data step rolls the schema change back with it, so the "
            "two cannot be retried, batched or timed separately."
        ),
        fix_steps=(
            "Move the data change into a migration of its own, between the schema migrations that "
            "need it (add the column nullable; backfill; then make it NOT NULL).",
            "Change large tables in batches (`UPDATE ... WHERE id BETWEEN ...`, each committed: "
            "`atomic = False` in Django, `autocommit_block()` in Alembic), or run the backfill "
            "outside the deploy as a job.",
        ),
        how_to_test=(
            "Apply the migration to a copy of production while a second session reads and writes "
            "the table; the data change must not hold the table's lock (`pg_locks`) for its whole "
            "duration. `python manage.py sqlmigrate app 0002` / `alembic upgrade --sql` shows the "
            "statements that share the transaction."
        ),
        references=(
            _DJANGO_OPERATIONS + "#runsql",
            _DJANGO_OPERATIONS + "#runpython",
            "https://alembic.sqlalchemy.org/en/latest/api/runtime.html"
            "#alembic.runtime.migration.MigrationContext.autocommit_block",
            "https://www.postgresql.org/docs/current/explicit-locking.html",
        ),
    ),
    example_filename=_DJANGO_FILE,
    bad_example="""\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="shelf",
            field=models.CharField(max_length=20, null=True),
        ),
        migrations.RunSQL(
            "UPDATE library_book SET shelf = 'main' WHERE shelf IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
""",
    good_example="""\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0002_book_shelf")]

    operations = [
        migrations.RunSQL(
            "UPDATE library_book SET shelf = 'main' WHERE shelf IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
""",
)

RULES = (
    NOT_NULL_COLUMN_WITHOUT_DEFAULT,
    COLUMN_OR_TABLE_DROPPED,
    COLUMN_OR_TABLE_RENAMED,
    COLUMN_TYPE_OR_NULLABILITY_CHANGED,
    INDEX_CREATED_WITHOUT_CONCURRENTLY,
    CONSTRAINT_ADDED_WITHOUT_NOT_VALID,
    MIGRATION_WITHOUT_REVERSE,
    ROW_BY_ROW_DATA_MIGRATION,
    RUN_SQL_BUILT_FROM_STRINGS,
    DATA_CHANGE_IN_SCHEMA_MIGRATION,
)
