"""Migration safety (ORM401-ORM410): Django migrations and Alembic revisions, read without a database.

Each check walks the operations `migration_reader.read_migration` read once. Never reported:
operations on a table created earlier in the same migration, in `state_operations`, or in
`downgrade()`; the schema rules (ORM401-ORM406) are also silent in a squashed migration
(`replaces = [...]`: it only runs on a fresh database), in one of an app's initial migrations
(`initial = True`: its tables are brand new) and on a model without a table of its own (proxy or
`managed=False`). Django operations are compared with the model state rebuilt from the app's
earlier migration files; when that state is unknown, the checks that need it stay silent.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.migrations import (
    COLUMN_OR_TABLE_DROPPED,
    COLUMN_OR_TABLE_RENAMED,
    COLUMN_TYPE_OR_NULLABILITY_CHANGED,
    CONSTRAINT_ADDED_WITHOUT_NOT_VALID,
    DATA_CHANGE_IN_SCHEMA_MIGRATION,
    INDEX_CREATED_WITHOUT_CONCURRENTLY,
    MIGRATION_WITHOUT_REVERSE,
    NOT_NULL_COLUMN_WITHOUT_DEFAULT,
    ROW_BY_ROW_DATA_MIGRATION,
    RUN_SQL_BUILT_FROM_STRINGS,
)
from ...catalogue.model import Rule
from ...frameworks import migrations as fw
from ...project.index import module_name
from ...project.table_size import model_of_table, stays_small, unknown_size
from ..migration_reader import (
    ALEMBIC,
    DJANGO,
    POSTGRESQL_OR_UNKNOWN,
    Blocks,
    MigrationFile,
    Operation,
    added_column,
    alters_table,
    changes_column_type,
    column_name,
    column_type,
    created_tables,
    changed_table,
    data_change,
    display_text,
    django_field,
    drops_check_constraint,
    field_text,
    is_false,
    is_indexed,
    is_nullable,
    is_true,
    is_unique,
    keyword_text,
    keyword_value,
    name_text,
    read_migration,
    row_write,
    sql_statements,
    string_value,
    table_origin,
    widens_numeric,
    widens_string,
)
from ..queries import call_name, unchain
from ..registry import Report, check
from ..render import short_call, source
from ..scope import CONSTANT_NAME, LoopFrame, ModuleIndex
from .loops import LoopScale, loop_scale
from .raw_sql import SqlContext, built_from_outside, is_ddl

_FIX = {
    (NOT_NULL_COLUMN_WITHOUT_DEFAULT.code, DJANGO): (
        "add it with null=True (or db_default=...), backfill it, then make it NOT NULL in a later migration"
    ),
    (NOT_NULL_COLUMN_WITHOUT_DEFAULT.code, ALEMBIC): (
        "add it with nullable=True (or a server_default), backfill it, then set nullable=False in a later revision"
    ),
    (COLUMN_OR_TABLE_DROPPED.code, DJANGO): (
        "stop using it in a release first (SeparateDatabaseAndState with state_operations only), then drop it"
    ),
    (COLUMN_OR_TABLE_DROPPED.code, ALEMBIC): "stop using it in a release first, then drop it in a later revision",
    (COLUMN_OR_TABLE_RENAMED.code, DJANGO): (
        "keep the database name (db_column=/db_table=) or expand and contract: add the new one, copy, switch, drop"
    ),
    (COLUMN_OR_TABLE_RENAMED.code, ALEMBIC): (
        "expand and contract: add the new one, copy and dual-write, switch, then drop"
    ),
    (INDEX_CREATED_WITHOUT_CONCURRENTLY.code, DJANGO): "use AddIndexConcurrently with atomic = False on the Migration",
    (INDEX_CREATED_WITHOUT_CONCURRENTLY.code, ALEMBIC): (
        "pass postgresql_concurrently=True inside op.get_context().autocommit_block()"
    ),
    (CONSTRAINT_ADDED_WITHOUT_NOT_VALID.code, DJANGO): (
        "add it with AddConstraintNotValid, then ValidateConstraint in a separate migration"
    ),
    (CONSTRAINT_ADDED_WITHOUT_NOT_VALID.code, ALEMBIC): (
        "pass postgresql_not_valid=True, then VALIDATE CONSTRAINT in a separate revision"
    ),
}
_UNIQUE_FIX = {
    DJANGO: "create the unique index CONCURRENTLY in RunSQL, then add the constraint USING INDEX",
    ALEMBIC: "create the unique index with postgresql_concurrently=True, then add the constraint USING INDEX",
}
_NOT_NULL_FIX = "add a CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL and drop the check"
_TYPE_FIX = "add a new column of the new type, backfill and dual-write, switch reads, then drop the old column"
_REVERSE_FIX = {
    fw.RUN_PYTHON: "pass reverse_code= (migrations.RunPython.noop when there is nothing to undo)",
    fw.RUN_SQL: "pass reverse_sql= (migrations.RunSQL.noop when there is nothing to undo)",
    fw.DOWNGRADE: "write the reverse operations, or raise NotImplementedError to declare it irreversible",
}
_ROW_FIX = {
    "save": "change the objects in memory and bulk_update() them in batches, or use QuerySet.update()",
    "create": "build the objects and bulk_create() them with a batch_size",
    "delete": "delete them with one QuerySet.delete() (in batches for large tables)",
    "update": "update them with one QuerySet.update(), or bulk_update() in batches",
    fw.EXECUTE: "send one set-based UPDATE/INSERT ... SELECT, or executemany with a list of parameters",
}
_ROW_FIX["get_or_create"] = _ROW_FIX["update_or_create"] = _ROW_FIX["create"]
_RUN_SQL_FIX = "keep the SQL constant and pass the values as params: RunSQL([(sql, [value])])"
_DATA_CHANGE_FIX = {
    DJANGO: "move it into a migration of its own (atomic = False, in batches for large tables)",
    ALEMBIC: "move it into a revision of its own, in batches inside op.get_context().autocommit_block()",
}
_ONE_OFF_DEFAULT_FIX = (
    "the previous release's inserts fail once Django drops that default: add it with db_default=... "
    "(kept in the database) or null=True, backfill, then make it NOT NULL in a later migration"
)
_CHECK_FIX = (
    "add the CHECK with AddConstraintNotValid and ValidateConstraint first, or keep the field and add a validator"
)
_FK_INDEX_FIX = "add it with db_index=False, then AddIndexConcurrently in a migration with atomic = False"
_COLUMN_INDEX_FIX = (
    "add the column without index=/unique=, then create the index with postgresql_concurrently=True "
    "inside op.get_context().autocommit_block()"
)
_FK_DEFAULT_FIX = (
    "add it with null=True and no default (PostgreSQL then skips the check), backfill, then make it NOT NULL"
)
_COLUMN_FK_FIX = (
    "add the column without ForeignKey(), then op.create_foreign_key(..., postgresql_not_valid=True) "
    "and VALIDATE CONSTRAINT in a separate revision"
)


# -- checks -----------------------------------------------------------------------------


@check(NOT_NULL_COLUMN_WITHOUT_DEFAULT, runs_on_migrations=True)
def not_null_column_without_default(index: ModuleIndex) -> Iterator[Report]:
    """not-null-column-without-default: a NOT NULL column without a default added to an existing table."""
    migration = read_migration(index)
    if migration is None:
        return
    for op in migration.schema_operations():
        column, fix = _not_null_without_default(op, migration.imports)
        if column is not None:
            yield _report(NOT_NULL_COLUMN_WITHOUT_DEFAULT, op, column=column, **({"fix": fix} if fix else {}))


def _not_null_without_default(op: Operation, imports: dict[str, str]) -> tuple[str | None, str | None]:
    """(the column, a fix of its own or None) when the operation adds a NOT NULL column with no default."""
    if op.name == fw.ADD_FIELD:
        column = _django_not_null_field(op, imports)
        if column is None:
            column = _one_off_default(op, imports)
            return column, _ONE_OFF_DEFAULT_FIX if column else None
        return column, None
    if op.framework == ALEMBIC and op.name == fw.ADD_COLUMN:
        return _alembic_not_null_column(op), None
    return None, None


_EMPTIED = {
    "scale": (
        " (the NOT NULL column without a default added to it here only succeeds on an empty table: instant then,"
        " but under the lock once that column is made safe)"
    )
}


def _empty_when_it_runs(index: ModuleIndex, migration: MigrationFile) -> dict[int, bool]:
    """Operations on a table that this migration, by then, gave a NOT NULL column without a default (that one too):
    it only gets there on an empty table (ORM401 reports the column), so an index or a constraint there is instant.
    Read once per module, for ORM405 and ORM406 alike."""
    if "emptied" not in index.memo:
        index.memo["emptied"] = _emptied_tables(migration)
    return index.memo["emptied"]  # type: ignore[return-value]


def _emptied_tables(migration: MigrationFile) -> dict[int, bool]:
    emptied: set[str | None] = set()
    after: dict[int, bool] = {}
    for op in migration.schema_operations():
        column, fix = _not_null_without_default(op, migration.imports)
        if column is not None and fix is None:  # not a one-off default: rows would make it fail
            emptied.add(op.table)
        after[id(op.call)] = op.table in emptied
    return after


@check(COLUMN_OR_TABLE_DROPPED, runs_on_migrations=True)
def column_or_table_dropped(index: ModuleIndex) -> Iterator[Report]:
    """column-or-table-dropped: a column or table dropped while deployed code may use it."""
    migration = read_migration(index)
    if migration is None or migration.after_deploy:
        return
    # makemigrations removes a deleted model's relations first: its table drop covers them.
    deleted = {op.table for op in migration.operations if op.name == fw.DELETE_MODEL and not op.separated}
    for op in migration.schema_operations():
        if op.separated:
            continue
        target = None
        if op.name == fw.REMOVE_FIELD and op.table not in deleted:
            target = _removed_field(op)
        elif op.name == fw.DELETE_MODEL:
            target = f"the table of model {op.table}"
        elif op.framework == ALEMBIC and op.name == fw.DROP_COLUMN:
            column = display_text(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.DROP_COLUMN]), op.constants)
            target = f"column {op.table_text}.{column}"
        elif op.framework == ALEMBIC and op.name == fw.DROP_TABLE:
            target = f"table {op.table_text}"
        if target is not None:
            yield _report(COLUMN_OR_TABLE_DROPPED, op, index, target=target)


def _removed_field(op: Operation) -> str | None:
    """What a RemoveField drops: its column; a many-to-many field's join table, or nothing when its `through`
    model is the project's own (that model's DeleteModel drops the table)."""
    name = string_value(op.argument("name"))
    field = op.previous.fields.get(name or "") if op.previous is not None else None
    if isinstance(field, ast.Call) and _many_to_many(field):
        if keyword_value(field, fw.THROUGH_KEYWORD) is not None or call_name(field) in fw.THROUGH_MANAGERS:
            return None
        return f"the join table of many-to-many field {op.table}.{name}"
    return f"column {op.table}.{name}"


@check(COLUMN_OR_TABLE_RENAMED, runs_on_migrations=True)
def column_or_table_renamed(index: ModuleIndex) -> Iterator[Report]:
    """column-or-table-renamed: a column or table renamed while deployed code uses the old name."""
    migration = read_migration(index)
    if migration is None:
        return
    for op in migration.schema_operations():
        if op.separated:
            continue
        target = _django_rename(op, migration.app_label) if op.framework == DJANGO else _alembic_rename(op)
        if target is not None:
            yield _report(COLUMN_OR_TABLE_RENAMED, op, index, target=target)


@check(COLUMN_TYPE_OR_NULLABILITY_CHANGED, runs_on_migrations=True)
def column_type_or_nullability_changed(index: ModuleIndex) -> Iterator[Report]:
    """column-type-or-nullability-changed: a column's type changed or made NOT NULL in place."""
    migration = read_migration(index)
    if migration is None:
        return
    backend = _backend(index)
    checked = {op.table for op in migration.operations if drops_check_constraint(op)}
    for op in migration.schema_operations():
        if op.name == fw.ALTER_FIELD:
            found = _django_column_change(op, backend, op.table in checked)
        elif op.framework == ALEMBIC and op.name == fw.ALTER_COLUMN:
            found = _alembic_column_change(op, backend, op.table in checked)
        else:
            continue
        if found is not None:
            change, fix = found
            yield _report(
                COLUMN_TYPE_OR_NULLABILITY_CHANGED, op, index, change=change, fix=fix, **_size(index, op.table)
            )


@check(INDEX_CREATED_WITHOUT_CONCURRENTLY, runs_on_migrations=True)
def index_created_without_concurrently(index: ModuleIndex) -> Iterator[Report]:
    """index-created-without-concurrently: an index built on PostgreSQL while writes are blocked."""
    migration = read_migration(index)
    if migration is None or _backend(index) not in POSTGRESQL_OR_UNKNOWN:
        return
    empty = _empty_when_it_runs(index, migration)
    altered: dict[str | None, str] = {}  # table -> the earlier operation holding its exclusive lock
    for op in migration.schema_operations():
        if op.other_dialect:
            continue
        found = _django_index(op, migration.imports) if op.framework == DJANGO else _alembic_index(op)
        holder = altered.get(op.table) if op.table and not op.autocommit else None
        if _takes_exclusive_lock(op) and migration.atomic and not op.autocommit:
            altered.setdefault(op.table, _operation_text(op))
        if found is not None:
            what, unique, fix = found
            if not fix and unique:
                fix = _UNIQUE_FIX[op.framework]
            elif not fix:
                fix = _FIX[INDEX_CREATED_WITHOUT_CONCURRENTLY.code, op.framework]
            blocking = {}
            own = _own_exclusive_lock(op, unique, migration.atomic) if not empty.get(id(op.call)) else None
            if own is not None:
                blocking = {"blocking": f"reads and writes wait ({own})"}
            elif holder is not None and not empty.get(id(op.call)):
                blocking = {
                    "blocking": f"reads and writes wait (the {holder} before it holds the table's exclusive lock "
                    "until the migration commits)"
                }
            yield _report(
                INDEX_CREATED_WITHOUT_CONCURRENTLY,
                op,
                index,
                index=what,
                table=op.table_text,
                fix=fix,
                **blocking,
                **(_EMPTIED if empty.get(id(op.call)) else _size(index, op.table, unknown_is_low=True)),
            )


def _own_exclusive_lock(op: Operation, unique: bool, atomic: bool) -> str | None:
    """Why the operation itself keeps reads out while its index builds, or None when only writes wait (CREATE INDEX
    takes a SHARE lock): a constraint added with ALTER TABLE holds ACCESS EXCLUSIVE through the build, and so does
    the ADD COLUMN or ALTER COLUMN the operation runs first, in the migration's transaction."""
    if unique and _added_with_alter_table(op):
        return "a unique constraint is added with ALTER TABLE, which holds the table's exclusive lock through the build"
    if not atomic or op.autocommit:
        return None
    if op.name in (fw.ADD_FIELD, fw.ADD_COLUMN):
        return "the column is added first, and that exclusive lock is held until the migration commits"
    if op.name == fw.ALTER_FIELD and _alters_column_too(op):
        return "the column is altered first, and that exclusive lock is held until the migration commits"
    return None


def _added_with_alter_table(op: Operation) -> bool:
    """Django's `_create_unique_sql` and Alembic's `create_unique_constraint()` use ALTER TABLE ... ADD CONSTRAINT,
    as does AddConstraint of a CHECK; a UniqueConstraint with expressions, a condition, `include` or `opclasses` is a
    CREATE UNIQUE INDEX instead."""
    if op.name == fw.ADD_CONSTRAINT:
        constraint = op.argument("constraint")
        return isinstance(constraint, ast.Call) and not _unique_index_form(constraint)
    return op.name in (fw.ADD_FIELD, fw.ALTER_FIELD, fw.CREATE_UNIQUE_CONSTRAINT, fw.ADD_COLUMN)


def _unique_index_form(constraint: ast.Call) -> bool:
    return call_name(constraint) == fw.UNIQUE_CONSTRAINT and (
        bool(constraint.args) or any(k.arg in fw.UNIQUE_INDEX_ARGUMENTS for k in constraint.keywords)
    )


def _takes_exclusive_lock(op: Operation) -> bool:
    """The operation holds its table's ACCESS EXCLUSIVE lock until the migration commits: an ALTER TABLE of that
    table (a many-to-many field's is another table's) or a DROP INDEX. A constraint added with CREATE UNIQUE INDEX
    takes a SHARE lock."""
    if op.name == fw.ADD_CONSTRAINT:
        return _added_with_alter_table(op)
    if op.name not in fw.EXCLUSIVE_ALTERATIONS:
        return False
    if op.name == fw.ADD_FIELD:
        return not _many_to_many(op.argument("field"))
    if op.name == fw.REMOVE_FIELD and op.previous is not None:
        return not _many_to_many(op.previous.fields.get(string_value(op.argument("name")) or ""))
    return True


def _many_to_many(field: ast.expr | None) -> bool:
    """A many-to-many field (Django's, a subclass, taggit's manager): a join table, no column."""
    name = call_name(field) if isinstance(field, ast.Call) else None
    return name is not None and (name.endswith(fw.MANY_TO_MANY_FIELD) or name in fw.THROUGH_MANAGERS)


def _alters_column_too(op: Operation) -> bool:
    """An AlterField that changes the column's type (even a widening, which needs no rewrite) or nullability besides
    its index: Django runs that ALTER COLUMN before it adds the index."""
    name = string_value(op.argument("name")) or ""
    old = op.previous.fields.get(name) if op.previous is not None else None
    new = op.argument("field")
    if not isinstance(old, ast.Call) or not isinstance(new, ast.Call):
        return False
    old_type, new_type = column_type(old), column_type(new)
    return is_nullable(old) != is_nullable(new) or (
        old_type is not None and new_type is not None and old_type != new_type
    )


@check(CONSTRAINT_ADDED_WITHOUT_NOT_VALID, runs_on_migrations=True)
def constraint_added_without_not_valid(index: ModuleIndex) -> Iterator[Report]:
    """constraint-added-without-not-valid: a CHECK or FOREIGN KEY validated under a lock on PostgreSQL."""
    migration = read_migration(index)
    if migration is None or _backend(index) not in POSTGRESQL_OR_UNKNOWN:
        return
    empty = _empty_when_it_runs(index, migration)
    for op in migration.schema_operations():
        if op.other_dialect:
            continue
        found = _django_constraint(op, migration.imports) if op.framework == DJANGO else _alembic_constraint(op)
        if found is not None:
            constraint, fix = found
            size = _EMPTIED if empty.get(id(op.call)) else _size(index, op.table)
            values = {"constraint": constraint, "table": op.table_text, **size}
            if fix:
                values["fix"] = fix
            yield _report(CONSTRAINT_ADDED_WITHOUT_NOT_VALID, op, index, **values)


@check(MIGRATION_WITHOUT_REVERSE, runs_on_migrations=True)
def migration_without_reverse(index: ModuleIndex) -> Iterator[Report]:
    """migration-without-reverse: RunPython/RunSQL without a reverse, or an empty Alembic downgrade()."""
    migration = read_migration(index)
    if migration is None:
        return
    if migration.framework == ALEMBIC:
        yield from _empty_downgrade(migration)
        return
    for op in migration.operations:
        if op.name not in (fw.RUN_PYTHON, fw.RUN_SQL):
            continue
        reverse = op.argument(fw.REVERSE_CODE if op.name == fw.RUN_PYTHON else fw.REVERSE_SQL)
        if reverse is None or (isinstance(reverse, ast.Constant) and reverse.value is None):
            yield Report(
                MIGRATION_WITHOUT_REVERSE,
                op.call,
                {
                    "operation": op.name,
                    "consequence": "migrating backwards raises IrreversibleError",
                    "fix": _REVERSE_FIX[op.name],
                },
            )


@check(ROW_BY_ROW_DATA_MIGRATION, runs_on_migrations=True)
def row_by_row_data_migration(index: ModuleIndex) -> Iterator[Report]:
    """row-by-row-data-migration: one write per row inside a data migration's loop."""
    migration = read_migration(index)
    if migration is None:
        return
    functions = migration.forward_functions if migration.framework == DJANGO else [migration.upgrade]
    wanted = {id(f) for f in functions if f is not None}
    blocks: dict[int, Blocks] = {}
    for scope in index.scopes:
        if id(scope.node) not in wanted:
            continue
        for site in scope.calls:
            if site.frame is None or site.leaves_loop or not _per_row(site.frame, index):
                continue
            method = row_write(site.node, migration.framework, scope, blocks)
            if method is not None:
                yield Report(
                    ROW_BY_ROW_DATA_MIGRATION, site.node, {"call": short_call(site.node), "fix": _ROW_FIX[method]}
                )


@check(RUN_SQL_BUILT_FROM_STRINGS, runs_on_migrations=True)
def run_sql_built_from_strings(index: ModuleIndex) -> Iterator[Report]:
    """run-sql-built-from-strings: RunSQL text formatted from values that can come from outside."""
    migration = read_migration(index)
    if migration is None or migration.framework != DJANGO:
        return
    ctx = SqlContext(index, index.module)
    for op in migration.operations:
        if op.name != fw.RUN_SQL:
            continue
        statements = [*sql_statements(op.argument("sql")), *sql_statements(op.argument(fw.REVERSE_SQL))]
        built = next(filter(None, (built_from_outside(s, ctx) for s in statements if not is_ddl(s, ctx))), None)
        if built is not None:
            how, value = built
            yield Report(
                RUN_SQL_BUILT_FROM_STRINGS,
                op.call,
                {"sink": "RunSQL", "how": how, "value": source(value), "fix": _RUN_SQL_FIX},
            )


@check(DATA_CHANGE_IN_SCHEMA_MIGRATION, runs_on_migrations=True)
def data_change_in_schema_migration(index: ModuleIndex) -> Iterator[Report]:
    """data-change-in-schema-migration: UPDATE/DELETE/INSERT in the transaction that alters a table."""
    migration = read_migration(index)
    if migration is None or not migration.atomic or _backend(index) not in POSTGRESQL_OR_UNKNOWN:
        return
    in_transaction = [op for op in migration.schema_operations() if not op.autocommit and not op.other_dialect]
    altering = [op for op in in_transaction if alters_table(op)]
    if not altering:
        return
    created = created_tables(migration)
    for op in in_transaction:
        statement = data_change(op, created)
        if statement is not None:
            yield _report(
                DATA_CHANGE_IN_SCHEMA_MIGRATION,
                op,
                sql=statement,
                schema=f"{_operation_text(altering[0])} on {altering[0].table_text}",
                fix=_DATA_CHANGE_FIX[op.framework],
                **_size(index, changed_table(statement)),
            )


# -- what each rule reports ---------------------------------------------------------------


def _one_off_default(op: Operation, imports: dict[str, str]) -> str | None:
    """A NOT NULL AddField whose `default=` only fills today's rows: `preserve_default=False`.

    makemigrations writes it when asked for a value for existing rows; the model has no default,
    and Django drops the column's database default right after adding it.
    """
    if not is_false(op.argument(fw.PRESERVE_DEFAULT)):
        return None
    value = op.argument("field")
    if not isinstance(value, ast.Call) or keyword_value(value, fw.DB_DEFAULT_KEYWORD) is not None or is_nullable(value):
        return None
    kind = django_field(value, imports)
    if kind is None or kind in fw.FIELDS_WITHOUT_COLUMN or is_true(keyword_value(value, fw.PRIMARY_KEY_KEYWORD)):
        return None
    return f"{op.table}.{string_value(op.argument('name'))} (its default is one-off: preserve_default=False)"


def _django_not_null_field(op: Operation, imports: dict[str, str]) -> str | None:
    """The column an AddField adds NOT NULL with no value for the existing rows.

    Silent for a field class that is not Django's own (its column, if any, is unknown: TaggableManager
    has none), and wherever Django's schema editor gives the existing rows a value: `default=`,
    `db_default=`, `blank=True` on a string field ('') and auto_now/auto_now_add (the current time).
    """
    value = op.argument("field")
    if not isinstance(value, ast.Call):
        return None
    kind = django_field(value, imports)
    if kind is None or kind in fw.FIELDS_WITHOUT_COLUMN or kind.endswith("AutoField") or is_nullable(value):
        return None
    if any(keyword_value(value, k) is not None for k in fw.DEFAULT_KEYWORDS) or is_true(
        keyword_value(value, fw.PRIMARY_KEY_KEYWORD)
    ):
        return None
    if kind in fw.EMPTY_STRING_FIELDS and is_true(keyword_value(value, fw.BLANK_KEYWORD)):
        return None
    if kind in fw.AUTO_NOW_FIELDS and any(is_true(keyword_value(value, k)) for k in fw.AUTO_NOW_KEYWORDS):
        return None
    return f"{op.table}.{string_value(op.argument('name'))}"


def _alembic_not_null_column(op: Operation) -> str | None:
    column = op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ADD_COLUMN])
    if not isinstance(column, ast.Call) or call_name(column) != fw.COLUMN_CLASS:
        return None
    nullable = keyword_value(column, fw.NULLABLE_KEYWORD)
    if not (isinstance(nullable, ast.Constant) and nullable.value is False):
        return None
    if keyword_value(column, fw.SERVER_DEFAULT_KEYWORD) is not None:
        return None
    if any(isinstance(a, ast.Call) and call_name(a) in fw.GENERATED_COLUMN_CLASSES for a in column.args):
        return None
    return f"{op.table_text}.{display_text(added_column(op), op.constants)}"


def _django_rename(op: Operation, app_label: str) -> str | None:
    if op.column_added_here:
        return None  # no deployed code knows the column this migration added
    if op.name == fw.RENAME_FIELD:
        old_name = string_value(op.argument("old_name"))
        previous = op.previous.fields.get(old_name or "") if op.previous else None
        if previous is not None and keyword_value(previous, fw.DB_COLUMN_KEYWORD) is not None:
            return None  # the column keeps its name
        return f"column {op.table}.{old_name} to {string_value(op.argument('new_name'))}"
    if op.name in (fw.RENAME_MODEL, fw.ALTER_MODEL_TABLE) and op.previous is not None and op.previous.table_unknown:
        return None  # a model moved in by state_operations: which table the deployed code uses, the SQL decided
    if op.name == fw.RENAME_MODEL:
        if op.previous is not None and op.previous.db_table:
            return None  # db_table pins the table name
        return f"the table of model {op.table} (now {(string_value(op.argument('new_name')) or '?').lower()})"
    if op.name == fw.ALTER_MODEL_TABLE:
        value = op.argument("table")
        default = f"{app_label}_{op.table}"  # Django's name when db_table is None
        reset = value is None or (isinstance(value, ast.Constant) and value.value is None)
        table = default if reset else string_value(value)
        if table is not None and op.previous is not None and (op.previous.db_table or default) == table:
            return None  # the same name as before
        if reset:
            return f"the table of model {op.table} back to its default name ({default})"
        return f"the table of model {op.table} to {display_text(value)}"
    if op.name == fw.ALTER_FIELD and op.previous is not None:
        field_name = string_value(op.argument("name")) or ""
        old, new = op.previous.fields.get(field_name), op.argument("field")
        if field_name in op.previous.state_only:
            return None  # declared by state_operations beside SQL of the project's own: its column is unknown
        if old is not None and isinstance(new, ast.Call):
            old_column, new_column = column_name(old, field_name), column_name(new, field_name)
            if old_column != new_column:
                return f"column {op.table}.{old_column} to {new_column}"
    return None


def _alembic_rename(op: Operation) -> str | None:
    if op.name == fw.RENAME_TABLE:
        return f"table {op.table_text} to {display_text(op.alembic_argument(1, 'new_table_name'), op.constants)}"
    if op.name == fw.ALTER_COLUMN and not op.column_added_here:
        new_name = keyword_value(op.call, fw.NEW_COLUMN_NAME_KEYWORD)
        if new_name is not None:
            column = display_text(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ALTER_COLUMN]), op.constants)
            return f"column {op.table_text}.{column} to {display_text(new_name, op.constants)}"
    return None


def _django_column_change(op: Operation, backend: str | None, checked: bool) -> tuple[str, str] | None:
    """An AlterField that changes the column type or makes it NOT NULL; silent when the old field is unknown."""
    name = string_value(op.argument("name")) or "?"
    new = op.argument("field")
    old = op.previous.fields.get(name) if op.previous is not None else None
    if old is None or not isinstance(new, ast.Call):
        return None
    if fw.MANY_TO_MANY_FIELD in (call_name(old), call_name(new)):
        return None  # no column on this table
    type_change = changes_column_type(old, new, backend)
    tightened = is_nullable(old) and not is_nullable(new) and not checked
    column = f"column {op.table}.{name}"
    if type_change and call_name(new) in fw.CHECKED_FIELDS and column_type(old) == column_type(new):
        # IntegerField to PositiveIntegerField: the same type, plus CHECK (col >= 0)
        change = f"adds CHECK ({column_name(new, name)} >= 0) to {column} ({field_text(old)} to {field_text(new)})"
        return change + (" and makes it NOT NULL" if tightened else ""), _CHECK_FIX
    return _describe_change(column, field_text(old), field_text(new), type_change, tightened)


def _alembic_column_change(op: Operation, backend: str | None, checked: bool) -> tuple[str, str] | None:
    name = display_text(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ALTER_COLUMN]), op.constants)
    column = f"column {op.table_text}.{name}"
    new, old = keyword_value(op.call, fw.TYPE_KEYWORD), keyword_value(op.call, fw.EXISTING_TYPE_KEYWORD)
    type_change = new is not None and (old is None or ast.dump(old) != ast.dump(new))
    if (
        type_change
        and new is not None
        and old is not None
        and backend in POSTGRESQL_OR_UNKNOWN
        and (widens_string(old, new) or widens_numeric(old, new))
    ):
        type_change = False
    nullable, existing = keyword_value(op.call, fw.NULLABLE_KEYWORD), keyword_value(
        op.call, fw.EXISTING_NULLABLE_KEYWORD
    )
    tightened = not checked and is_false(nullable) and not is_false(existing)
    old_text = source(old) if old is not None else "its current type"
    return _describe_change(column, old_text, source(new) if new is not None else "", type_change, tightened)


def _describe_change(column: str, old: str, new: str, type_change: bool, tightened: bool) -> tuple[str, str] | None:
    if type_change and tightened:
        return f"changes the type of {column} ({old} to {new}) and makes it NOT NULL", _TYPE_FIX
    if type_change:
        return f"changes the type of {column} ({old} to {new})", _TYPE_FIX
    if tightened:
        return f"makes {column} NOT NULL", _NOT_NULL_FIX
    return None


def _django_index(op: Operation, imports: dict[str, str]) -> tuple[str, bool, str] | None:
    """(description, unique, fix or "") for an operation that builds an index without CONCURRENTLY."""
    if op.name == fw.ADD_INDEX:
        return f"index {keyword_text(op.argument('index'), 'name', op.constants)}", False, ""
    if op.name == fw.ADD_CONSTRAINT:
        value = op.argument("constraint")
        if isinstance(value, ast.Call) and call_name(value) == fw.UNIQUE_CONSTRAINT:
            return f"unique constraint {keyword_text(value, 'name', op.constants)}", True, ""
        return None
    if op.name == fw.ADD_FIELD:
        name = string_value(op.argument("name")) or ""
        new = op.argument("field")
        if not isinstance(new, ast.Call) or call_name(new) in fw.FIELDS_WITHOUT_COLUMN:
            return None
        kind = django_field(new, imports)
        if is_true(keyword_value(new, fw.UNIQUE_KEYWORD)) or kind == fw.ONE_TO_ONE_FIELD:
            return f"a unique index for {name}", True, ""
        if is_true(keyword_value(new, fw.DB_INDEX_KEYWORD)):
            return f"an index for {name}", False, ""
        if kind is not None and is_indexed(new):
            return f"the implicit index of {kind} {name}", False, _FK_INDEX_FIX
        return None
    if op.name == fw.ALTER_FIELD and op.previous is not None:
        name = string_value(op.argument("name")) or ""
        old, new = op.previous.fields.get(name), op.argument("field")
        if old is None or not isinstance(new, ast.Call) or fw.MANY_TO_MANY_FIELD in (call_name(old), call_name(new)):
            return None
        old_key = is_true(keyword_value(old, fw.PRIMARY_KEY_KEYWORD))
        new_key = is_true(keyword_value(new, fw.PRIMARY_KEY_KEYWORD))
        # BaseDatabaseSchemaEditor._alter_field: a new primary key, _unique_should_be_added(), and
        # "Added an index?" (db_index turned on, or a unique constraint no longer stands in for it).
        if new_key and not old_key:
            return f"a primary key index for {name}", True, ""
        if not new_key and is_unique(new) and (not is_unique(old) or old_key):
            return f"a unique index for {name}", True, ""
        if is_indexed(new) and not is_unique(new) and (not is_indexed(old) or is_unique(old)):
            return f"an index for {name}", False, ""
    return None


def _alembic_index(op: Operation) -> tuple[str, bool, str] | None:
    if op.name == fw.CREATE_INDEX and not is_true(keyword_value(op.call, fw.POSTGRESQL_CONCURRENTLY)):
        return f"index {name_text(op.alembic_argument(*fw.INDEX_NAME_ARGUMENT), op.constants)}", False, ""
    if op.name == fw.CREATE_UNIQUE_CONSTRAINT:
        return f"unique constraint {name_text(op.alembic_argument(*fw.NAME_ARGUMENT), op.constants)}", True, ""
    if op.name == fw.ADD_COLUMN:
        # Alembic creates the indexes of Column(index=True / unique=True) after adding the column.
        column = op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ADD_COLUMN])
        if not isinstance(column, ast.Call) or call_name(column) != fw.COLUMN_CLASS:
            return None
        name = display_text(added_column(op), op.constants)
        if is_true(keyword_value(column, fw.UNIQUE_COLUMN_KEYWORD)):
            return f"a unique index for column {name}", True, _COLUMN_INDEX_FIX
        if is_true(keyword_value(column, fw.INDEX_KEYWORD)):
            return f"an index for column {name}", False, _COLUMN_INDEX_FIX
    return None


def _django_constraint(op: Operation, imports: dict[str, str]) -> tuple[str, str] | None:
    """(description, fix or "") for a CHECK or FOREIGN KEY that PostgreSQL validates under a lock."""
    if op.name == fw.ADD_CONSTRAINT:
        value = op.argument("constraint")
        if isinstance(value, ast.Call) and call_name(value) == fw.CHECK_CONSTRAINT:
            return f"check constraint {keyword_text(value, 'name', op.constants)}", ""
    elif op.name == fw.ADD_FIELD:
        # Django adds a ForeignKey's constraint inside ADD COLUMN; PostgreSQL skips checking it
        # when the new column has no default (every row is NULL), and checks every row otherwise.
        new = op.argument("field")
        if (
            isinstance(new, ast.Call)
            and django_field(new, imports) in fw.FOREIGN_KEY_FIELDS
            and any(keyword_value(new, k) is not None for k in fw.DEFAULT_KEYWORDS)
            and not is_false(keyword_value(new, "db_constraint"))
        ):
            return f"the foreign key of {string_value(op.argument('name'))} (the column has a default)", _FK_DEFAULT_FIX
    return None


def _alembic_constraint(op: Operation) -> tuple[str, str] | None:
    if op.name in (fw.CREATE_FOREIGN_KEY, fw.CREATE_CHECK_CONSTRAINT):
        if not is_true(keyword_value(op.call, fw.POSTGRESQL_NOT_VALID)):
            kind = "foreign key" if op.name == fw.CREATE_FOREIGN_KEY else "check constraint"
            return f"{kind} {name_text(op.alembic_argument(*fw.NAME_ARGUMENT), op.constants)}", ""
    elif op.name == fw.ADD_COLUMN:
        # Alembic adds the ForeignKey() of a new Column with a separate ADD CONSTRAINT, which
        # checks every row (unless inline_references=True puts it in ADD COLUMN of a column
        # without a default).
        column = op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ADD_COLUMN])
        if not isinstance(column, ast.Call) or call_name(column) != fw.COLUMN_CLASS:
            return None
        if not any(isinstance(a, ast.Call) and call_name(a) == fw.FOREIGN_KEY_CLASS for a in column.args):
            return None
        inline = is_true(keyword_value(op.call, fw.INLINE_REFERENCES_KEYWORD))
        if inline and keyword_value(column, fw.SERVER_DEFAULT_KEYWORD) is None:
            return None
        return f"the foreign key of column {display_text(added_column(op), op.constants)}", _COLUMN_FK_FIX
    return None


def _empty_downgrade(migration: MigrationFile) -> Iterator[Report]:
    downgrade = migration.downgrade
    if downgrade is None or not _does_nothing(downgrade.body):
        return
    changes = [op for op in migration.operations if not op.batch and op.name in fw.SCHEMA_DIRECTIVES]
    if changes and not all(_changes_rows_only(op) for op in changes):
        yield Report(
            MIGRATION_WITHOUT_REVERSE,
            downgrade,
            {
                "operation": "downgrade()",
                "consequence": f"it does nothing while upgrade() runs {short_call(changes[0].call)}",
                "fix": _REVERSE_FIX[fw.DOWNGRADE],
            },
        )


# SQLAlchemy constructs that change rows: `table.update().where(...).values(...)`, `sa.insert(table)`.
_ROW_STATEMENTS = frozenset({"update", "insert", "delete"})


def _changes_rows_only(op: Operation) -> bool:
    """A data fix (`op.execute("UPDATE ...")`, `op.execute(table.update()...)`, `op.bulk_insert`): a revision made
    only of these has no schema to take back, and its lost values cannot be restored; `pass` is its reverse."""
    if op.name == fw.BULK_INSERT:
        return True
    if op.name != fw.EXECUTE:
        return False
    if data_change(op, set()) is not None:
        return True
    argument = op.alembic_argument(0, "sqltext")
    root, steps = unchain(argument) if argument is not None else (None, [])
    names = [s.name for s in steps if s.call is not None]
    if isinstance(root, ast.Call):
        names.insert(0, call_name(root) or "")
    return bool(names) and names[0] in _ROW_STATEMENTS or (len(names) > 1 and names[1] in _ROW_STATEMENTS)


def _does_nothing(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in body
    )


def _per_row(frame: LoopFrame | None, index: ModuleIndex) -> bool:
    """query-in-loop's test (not a fixed list, not a batch loop), and not a loop over module constants."""
    if loop_scale(frame) is LoopScale.FIXED:
        return False
    while frame is not None:
        iterable = frame.iter
        constant = isinstance(iterable, ast.Name) and (
            bool(CONSTANT_NAME.match(iterable.id)) or index.module_constant(iterable.id)
        )
        if not constant and not isinstance(iterable, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return True
        frame = frame.parent
    return False


# -- reporting ------------------------------------------------------------------------


# Rules whose risk needs rows in the table or deployed code that uses it: none when the table came in the same
# release as the migration (which the pipeline and the flake8 plugin tell from git: migration_scope).
_NEED_AN_OLDER_TABLE = frozenset(
    rule.code
    for rule in (
        COLUMN_OR_TABLE_DROPPED,
        COLUMN_OR_TABLE_RENAMED,
        COLUMN_TYPE_OR_NULLABILITY_CHANGED,
        INDEX_CREATED_WITHOUT_CONCURRENTLY,
        CONSTRAINT_ADDED_WITHOUT_NOT_VALID,
    )
)


def _report(rule: Rule, op: Operation, module: ModuleIndex | None = None, /, **values: str) -> Report:
    values.setdefault("fix", _FIX.get((rule.code, op.framework), ""))
    values.setdefault("scale", "")
    origin = None
    if module is not None and rule.code in _NEED_AN_OLDER_TABLE:
        # a drop or a rename breaks deployed code only if it knew the column: the column's own origin counts
        origin = table_origin(op, module.filename, column=rule in (COLUMN_OR_TABLE_DROPPED, COLUMN_OR_TABLE_RENAMED))
    # A brief lock on a table that stays small is low, whatever the rule's severity.
    return Report(
        rule,
        op.call,
        {"operation": _operation_text(op), **values},
        lowered_by=3 if values["scale"] else 0,
        framework="django" if op.framework == DJANGO else "sqlalchemy",
        model=op.table_text if op.table_text != "?" else op.table,
        operation=op.name,
        table_created_in=origin,
    )


def _size(index: ModuleIndex, table: str | None, unknown_is_low: bool = False) -> dict[str, str]:
    """`scale` for the message when the table is a lookup or configuration table: the lock is brief there.
    With `unknown_is_low`, also when its model shows no sign of growing (a write lock's cost is all size)."""
    models = [m for found in index.project.candidates.values() for m in found]
    migration = read_migration(index)
    app = migration.app_label if migration is not None and migration.framework == DJANGO else None
    near = module_name(index.project.root, index.filename)
    model = model_of_table(models, table, near, app or None) if table else None
    small = stays_small(model, index.project.model) if model is not None else None
    if small:
        return {"scale": f" ({small}: the lock is brief)"}
    unknown = unknown_size(model, index.project.model) if model is not None and unknown_is_low else None
    return {"scale": f" ({unknown}, so the lock may well be brief)"} if unknown else {}


def _operation_text(op: Operation) -> str:
    return op.name if op.framework == DJANGO else f"{'batch_op' if op.batch else 'op'}.{op.name}()"


def _backend(index: ModuleIndex) -> str | None:
    backend = getattr(index, "backend", None)
    return backend.lower() if isinstance(backend, str) else None
