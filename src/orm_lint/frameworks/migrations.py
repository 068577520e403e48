"""Django migration operations and Alembic `op` directives, as named constants."""

from __future__ import annotations

# -- database backends (the `backend` setting) ------------------------------------------
POSTGRESQL = "postgresql"
MYSQL = "mysql"
SQLITE = "sqlite"
BACKENDS = (POSTGRESQL, MYSQL, SQLITE)

# -- Django migrations ------------------------------------------------------------------
MIGRATION_CLASS = "Migration"
OPERATIONS_ATTRIBUTE = "operations"
DEPENDENCIES_ATTRIBUTE = "dependencies"
ATOMIC_ATTRIBUTE = "atomic"
MIGRATIONS_FOLDER = "migrations"
# A squashed migration lists the migrations it replaces; Django runs it only on a database
# that has none of them applied, i.e. a fresh one.
REPLACES_ATTRIBUTE = "replaces"
# `initial = True`: one of the app's first migrations (makemigrations splits them when models of
# two apps refer to each other, e.g. 0002 adds the foreign keys to tables 0001 created). They run
# when the app is installed, on its brand-new, empty tables.
INITIAL_ATTRIBUTE = "initial"
# Deploy-stage markers: django-safemigrate (`safe = Safe.after_deploy()`; `Safe.always()`
# means safe before and after the code is deployed) and django-syzygy
# (`stage = Stage.POST_DEPLOY`). Such a migration runs once the new code is live.
SAFEMIGRATE_ATTRIBUTE = "safe"
SAFEMIGRATE_CLASS = "Safe"
SAFEMIGRATE_AFTER_DEPLOY = frozenset({"after_deploy", "always"})
SYZYGY_ATTRIBUTE = "stage"
SYZYGY_CLASS = "Stage"
SYZYGY_AFTER_DEPLOY = frozenset({"POST_DEPLOY"})

CREATE_MODEL = "CreateModel"
DELETE_MODEL = "DeleteModel"
RENAME_MODEL = "RenameModel"
ALTER_MODEL_TABLE = "AlterModelTable"
ALTER_MODEL_OPTIONS = "AlterModelOptions"
ADD_FIELD = "AddField"
REMOVE_FIELD = "RemoveField"
ALTER_FIELD = "AlterField"
RENAME_FIELD = "RenameField"
ADD_INDEX = "AddIndex"
ADD_CONSTRAINT = "AddConstraint"
REMOVE_CONSTRAINT = "RemoveConstraint"
REMOVE_INDEX = "RemoveIndex"
ALTER_UNIQUE_TOGETHER = "AlterUniqueTogether"
RUN_PYTHON = "RunPython"
RUN_SQL = "RunSQL"
SEPARATE_DATABASE_AND_STATE = "SeparateDatabaseAndState"
# django.contrib.postgres.operations: the safe variants.
ADD_INDEX_CONCURRENTLY = "AddIndexConcurrently"
ADD_CONSTRAINT_NOT_VALID = "AddConstraintNotValid"

STATE_OPERATIONS = "state_operations"
DATABASE_OPERATIONS = "database_operations"
REVERSE_CODE = "reverse_code"
REVERSE_SQL = "reverse_sql"
# AddField(..., preserve_default=False): the default only fills the existing rows, once.
PRESERVE_DEFAULT = "preserve_default"

# Parameter names in declaration order, so positional and keyword arguments read alike.
OPERATION_PARAMETERS: dict[str, tuple[str, ...]] = {
    CREATE_MODEL: ("name", "fields", "options", "bases", "managers"),
    DELETE_MODEL: ("name",),
    RENAME_MODEL: ("old_name", "new_name"),
    ALTER_MODEL_TABLE: ("name", "table"),
    ALTER_MODEL_OPTIONS: ("name", "options"),
    ADD_FIELD: ("model_name", "name", "field", PRESERVE_DEFAULT),
    REMOVE_FIELD: ("model_name", "name", "field"),
    ALTER_FIELD: ("model_name", "name", "field", PRESERVE_DEFAULT),
    RENAME_FIELD: ("model_name", "old_name", "new_name"),
    ADD_INDEX: ("model_name", "index"),
    ADD_INDEX_CONCURRENTLY: ("model_name", "index"),
    ADD_CONSTRAINT: ("model_name", "constraint"),
    ADD_CONSTRAINT_NOT_VALID: ("model_name", "constraint"),
    REMOVE_CONSTRAINT: ("model_name", "name"),
    REMOVE_INDEX: ("model_name", "name"),
    ALTER_UNIQUE_TOGETHER: ("name", "unique_together"),
    RUN_PYTHON: ("code", REVERSE_CODE, "atomic", "hints", "elidable"),
    RUN_SQL: ("sql", REVERSE_SQL, STATE_OPERATIONS, "hints", "elidable"),
    SEPARATE_DATABASE_AND_STATE: (DATABASE_OPERATIONS, STATE_OPERATIONS),
}
DB_TABLE_OPTION = "db_table"

# Model options that mean "no table of its own": Django runs no DDL for such a model.
PROXY_OPTION = "proxy"
MANAGED_OPTION = "managed"

# Fields: what decides the column, its default and its indexes.
FIELDS_WITHOUT_COLUMN = frozenset({"ManyToManyField", "GeneratedField"})
MANY_TO_MANY_FIELD = "ManyToManyField"
THROUGH_KEYWORD = "through"  # ManyToManyField(through=...): the project's own model holds the join table
# Many-to-many managers whose join table is always a model of its own (django-taggit's TaggedItem).
THROUGH_MANAGERS = frozenset({"TaggableManager"})
FOREIGN_KEY_FIELDS = frozenset({"ForeignKey", "OneToOneField"})
# How subclasses of them are named (mptt's TreeForeignKey, a project's own ...ForeignKey).
FOREIGN_KEY_SUFFIXES = ("ForeignKey", "OneToOneField")
ONE_TO_ONE_FIELD = "OneToOneField"
NULL_BOOLEAN_FIELD = "NullBooleanField"  # always nullable
DB_DEFAULT_KEYWORD = "db_default"
DEFAULT_KEYWORDS = frozenset({"default", DB_DEFAULT_KEYWORD})
NULL_KEYWORD = "null"
BLANK_KEYWORD = "blank"
AUTO_NOW_KEYWORDS = frozenset({"auto_now", "auto_now_add"})
DB_COLUMN_KEYWORD = "db_column"
DB_INDEX_KEYWORD = "db_index"
UNIQUE_KEYWORD = "unique"
PRIMARY_KEY_KEYWORD = "primary_key"
TO_KEYWORD = "to"
BASE_FIELD_KEYWORD = "base_field"
DB_COLLATION_KEYWORD = "db_collation"
INDEX_KEYWORDS = frozenset({DB_INDEX_KEYWORD, UNIQUE_KEYWORD})
# Keywords that change the column's SQL type; the rest (help_text, choices, default,
# validators, on_delete, related_name ...) live in Python only.
TYPE_KEYWORDS = frozenset(
    {
        "max_length",
        "max_digits",
        "decimal_places",
        DB_COLLATION_KEYWORD,
        TO_KEYWORD,
        "to_field",
        PRIMARY_KEY_KEYWORD,
        BASE_FIELD_KEYWORD,
        "size",
    }
)
MAX_LENGTH_KEYWORD = "max_length"
MAX_DIGITS_KEYWORD = "max_digits"
DECIMAL_PLACES_KEYWORD = "decimal_places"

# Django's own field classes (django.db.models, django.contrib.postgres.fields), by the column
# each one has on PostgreSQL (DatabaseWrapper.data_types); a field class outside this table
# (a third-party or project field) has an unknown column, or none (TaggableManager).
# The varchar fields, with the max_length each one defaults to (None: required).
VARCHAR_FIELDS: dict[str, int | None] = {
    "CharField": None,
    "SlugField": 50,
    "EmailField": 254,
    "URLField": 200,
    "FileField": 100,
    "ImageField": 100,
    "FilePathField": 100,
    "CommaSeparatedIntegerField": None,
}
TEXT_FIELDS = frozenset({"TextField"})
DECIMAL_FIELD = "DecimalField"
ARRAY_FIELD = "ArrayField"
POSTGRESQL_COLUMN_TYPES: dict[str, str] = {
    **{name: "varchar" for name in VARCHAR_FIELDS},
    "TextField": "text",
    "CICharField": "citext",
    "CIEmailField": "citext",
    "CITextField": "citext",
    "AutoField": "integer identity",
    "BigAutoField": "bigint identity",
    "SmallAutoField": "smallint identity",
    "IntegerField": "integer",
    "PositiveIntegerField": "integer",
    "BigIntegerField": "bigint",
    "PositiveBigIntegerField": "bigint",
    "SmallIntegerField": "smallint",
    "PositiveSmallIntegerField": "smallint",
    "BooleanField": "boolean",
    NULL_BOOLEAN_FIELD: "boolean",
    DECIMAL_FIELD: "numeric",
    "FloatField": "double precision",
    "DateField": "date",
    "DateTimeField": "timestamp with time zone",
    "TimeField": "time",
    "DurationField": "interval",
    "UUIDField": "uuid",
    "GenericIPAddressField": "inet",
    "IPAddressField": "inet",
    "JSONField": "jsonb",
    "BinaryField": "bytea",
    "HStoreField": "hstore",
    "IntegerRangeField": "int4range",
    "BigIntegerRangeField": "int8range",
    "DecimalRangeField": "numrange",
    "DateTimeRangeField": "tstzrange",
    "DateRangeField": "daterange",
    ARRAY_FIELD: "array",
    "ForeignKey": "foreign key",
    "OneToOneField": "foreign key",
}
# PositiveXxxField is its integer type plus a CHECK (col >= 0) constraint.
CHECKED_FIELDS = frozenset({"PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField"})
# Field.empty_strings_allowed: with blank=True and no null/default, Django's schema editor
# adds the column with DEFAULT '' (b'' for BinaryField) and drops the default afterwards
# (BaseDatabaseSchemaEditor._effective_default), so existing rows get a value.
EMPTY_STRING_FIELDS = frozenset(
    {*VARCHAR_FIELDS, "TextField", "BinaryField", "CICharField", "CIEmailField", "CITextField"}
)
# auto_now / auto_now_add: the schema editor adds the column with the current time as default.
AUTO_NOW_FIELDS = frozenset({"DateField", "DateTimeField", "TimeField"})
# Fields Django creates an index for unless db_index=False.
INDEXED_BY_DEFAULT = frozenset({"ForeignKey", "OneToOneField", "SlugField"})
# Modules whose field classes are Django's own (`models.CharField`, `django.contrib...`).
DJANGO_FIELD_MODULES = frozenset({"models", "django"})

CHECK_CONSTRAINT = "CheckConstraint"
UNIQUE_CONSTRAINT = "UniqueConstraint"

# Writes that touch one row per call.
ROW_WRITE_METHODS = frozenset({"save", "create", "get_or_create", "update_or_create", "update", "delete"})
INSTANCE_ROW_METHODS = frozenset({"save", "delete"})

# SQL that changes rows, by its first keyword; with the target table's position after it.
DATA_CHANGE_KEYWORDS = frozenset({"UPDATE", "DELETE", "INSERT"})
# SQL that only reads, by its first keyword (a `WITH` query reads unless it holds a data change).
READ_KEYWORDS = frozenset({"SELECT", "SHOW", "EXPLAIN"})
WITH_KEYWORD = "WITH"
# Operations that issue no DDL on an existing table (the others, in a migration with a
# data change, share its transaction).
OPERATIONS_WITHOUT_DDL = frozenset({CREATE_MODEL, ALTER_MODEL_OPTIONS, RUN_PYTHON, RUN_SQL})

# -- Alembic revisions ------------------------------------------------------------------
ALEMBIC_OP = "alembic.op"
REVISION_NAMES = frozenset({"revision", "down_revision"})
UPGRADE = "upgrade"
DOWNGRADE = "downgrade"

ADD_COLUMN = "add_column"
DROP_COLUMN = "drop_column"
ALTER_COLUMN = "alter_column"
CREATE_TABLE = "create_table"
DROP_TABLE = "drop_table"
RENAME_TABLE = "rename_table"
CREATE_INDEX = "create_index"
CREATE_UNIQUE_CONSTRAINT = "create_unique_constraint"
CREATE_FOREIGN_KEY = "create_foreign_key"
CREATE_CHECK_CONSTRAINT = "create_check_constraint"
DROP_CONSTRAINT = "drop_constraint"
DROP_INDEX = "drop_index"
BATCH_ALTER_TABLE = "batch_alter_table"
EXECUTE = "execute"
GET_BIND = "get_bind"
BULK_INSERT = "bulk_insert"
# `with op.get_context().autocommit_block():` runs its statements outside the migration's transaction.
AUTOCOMMIT_BLOCK = "autocommit_block"
# Schema changes (Django and Alembic) that take a table's ACCESS EXCLUSIVE lock, held until the migration commits:
# ALTER TABLE (columns, constraints dropped or added), and DROP INDEX without CONCURRENTLY.
EXCLUSIVE_ALTERATIONS = frozenset(
    {
        ADD_FIELD,
        ALTER_FIELD,
        RENAME_FIELD,
        REMOVE_FIELD,
        REMOVE_CONSTRAINT,
        REMOVE_INDEX,
        ALTER_UNIQUE_TOGETHER,
        ADD_COLUMN,
        ALTER_COLUMN,
        DROP_COLUMN,
        DROP_CONSTRAINT,
        DROP_INDEX,
        CREATE_UNIQUE_CONSTRAINT,
        CREATE_CHECK_CONSTRAINT,
    }
)
# UniqueConstraint arguments that make Django build it with CREATE UNIQUE INDEX (a SHARE lock) rather than
# ALTER TABLE ... ADD CONSTRAINT (ACCESS EXCLUSIVE, for the whole build).
UNIQUE_INDEX_ARGUMENTS = frozenset({"condition", "include", "opclasses"})
TEXT_CONSTRUCT = "text"  # sa.text("...")
# Methods of a `text()` construct that return the same statement with more attached.
STATEMENT_METHODS = frozenset({"bindparams", "columns", "execution_options"})
# SQLAlchemy constructs that build a read: `sa.select(...)`, `table.select()`.
SELECT_CONSTRUCT = "select"

# Where the table name sits: (positional index, keyword) on `op`; a batch operation has no
# table argument (it comes from `batch_alter_table`), so its positions shift by one.
TABLE_ARGUMENT: dict[str, tuple[int, str]] = {
    ADD_COLUMN: (0, "table_name"),
    DROP_COLUMN: (0, "table_name"),
    ALTER_COLUMN: (0, "table_name"),
    CREATE_TABLE: (0, "table_name"),
    DROP_TABLE: (0, "table_name"),
    RENAME_TABLE: (0, "old_table_name"),
    CREATE_INDEX: (1, "table_name"),
    CREATE_UNIQUE_CONSTRAINT: (1, "table_name"),
    CREATE_FOREIGN_KEY: (1, "source_table"),
    CREATE_CHECK_CONSTRAINT: (1, "table_name"),
    DROP_CONSTRAINT: (1, "table_name"),
    DROP_INDEX: (1, "table_name"),
    BATCH_ALTER_TABLE: (0, "table_name"),
}
# The argument after the table: the column for add/drop/alter, the index name before it.
COLUMN_ARGUMENT: dict[str, tuple[int, str]] = {
    ADD_COLUMN: (1, "column"),
    DROP_COLUMN: (1, "column_name"),
    ALTER_COLUMN: (1, "column_name"),
}
NAME_ARGUMENT = (0, "constraint_name")
INDEX_NAME_ARGUMENT = (0, "index_name")

# `op` directives that change the schema (an empty downgrade() must undo them).
SCHEMA_DIRECTIVES = frozenset(
    {
        ADD_COLUMN,
        DROP_COLUMN,
        ALTER_COLUMN,
        CREATE_TABLE,
        DROP_TABLE,
        RENAME_TABLE,
        CREATE_INDEX,
        "drop_index",
        CREATE_UNIQUE_CONSTRAINT,
        CREATE_FOREIGN_KEY,
        CREATE_CHECK_CONSTRAINT,
        "create_primary_key",
        "create_exclude_constraint",
        DROP_CONSTRAINT,
        BATCH_ALTER_TABLE,
        EXECUTE,
        BULK_INSERT,
    }
)

COLUMN_CLASS = "Column"
NULLABLE_KEYWORD = "nullable"
SERVER_DEFAULT_KEYWORD = "server_default"
GENERATED_COLUMN_CLASSES = frozenset({"Computed", "Identity"})
NEW_COLUMN_NAME_KEYWORD = "new_column_name"
TYPE_KEYWORD = "type_"
EXISTING_TYPE_KEYWORD = "existing_type"
EXISTING_NULLABLE_KEYWORD = "existing_nullable"
POSTGRESQL_CONCURRENTLY = "postgresql_concurrently"
POSTGRESQL_NOT_VALID = "postgresql_not_valid"
VARCHAR_TYPES = frozenset({"String", "VARCHAR", "Unicode", "NVARCHAR"})
NUMERIC_TYPES = frozenset({"Numeric", "NUMERIC", "DECIMAL"})
PRECISION_KEYWORD = "precision"
SCALE_KEYWORD = "scale"
FOREIGN_KEY_CLASS = "ForeignKey"
INDEX_KEYWORD = "index"
UNIQUE_COLUMN_KEYWORD = "unique"
INLINE_REFERENCES_KEYWORD = "inline_references"
# Dialect names compared in `if op.get_bind().dialect.name == "mysql":` and the like.
POSTGRESQL_DIALECTS = frozenset({"postgresql", "postgres", "psycopg2", "psycopg", "asyncpg"})
OTHER_DIALECTS = frozenset({"mysql", "mariadb", "sqlite", "mssql", "oracle"})
TEXT_TYPES = frozenset({"Text", "TEXT", "UnicodeText"})
LENGTH_KEYWORD = "length"
CONSTRAINT_TYPE_KEYWORD = "type_"
CHECK_CONSTRAINT_TYPE = "check"
# Receivers that run SQL in a revision: `op` itself and what `op.get_bind()` returns.
CONNECTION_NAMES = frozenset({"op", "bind", "conn", "connection", "session"})
