"""Migration safety (ORM401-ORM409): Django migrations and Alembic revisions, read without a database.

A module is read once into a list of operations (`read_migration`); each check walks that
list. Never reported: operations on a table created earlier in the same migration, in
`state_operations`, or in `downgrade()`. Django's `AlterField`/`RenameField`/`RenameModel`
are compared with the model state rebuilt from the app's earlier migration files, so that
only changes the database sees are reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ...catalogue.migrations import (
    COLUMN_OR_TABLE_DROPPED,
    COLUMN_OR_TABLE_RENAMED,
    COLUMN_TYPE_OR_NULLABILITY_CHANGED,
    CONSTRAINT_ADDED_WITHOUT_NOT_VALID,
    INDEX_CREATED_WITHOUT_CONCURRENTLY,
    MIGRATION_WITHOUT_REVERSE,
    NOT_NULL_COLUMN_WITHOUT_DEFAULT,
    ROW_BY_ROW_DATA_MIGRATION,
    RUN_SQL_BUILT_FROM_STRINGS,
)
from ...catalogue.model import Rule
from ...frameworks import django
from ...frameworks import migrations as fw
from ..queries import call_name, unchain
from ..registry import Report, check
from ..render import short_call, source
from ..scope import CONSTANT_NAME, LoopFrame, ModuleIndex, Scope
from .loops import _runs_per_item
from .raw_sql import _Context, _is_ddl, built_from_outside

DJANGO = "django"
ALEMBIC = "alembic"

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
_UNKNOWN_FIX = (
    "check it with sqlmigrate: a new type needs a new column and a backfill, NOT NULL a validated CHECK first"
)
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
# Backends on which the PostgreSQL locking rules apply; None is "not configured".
_POSTGRESQL_OR_UNKNOWN = (None, fw.POSTGRESQL)


@dataclass(eq=False)
class Operation:
    """One schema operation as it runs on the database."""

    framework: str
    name: str
    call: ast.Call
    table: str | None  # Django: the lowercased model name; Alembic: the table name
    created_here: bool  # the table was created earlier in this migration
    separated: bool = False  # inside SeparateDatabaseAndState(database_operations=...)
    batch: bool = False  # Alembic `batch_op.*`: no table argument
    previous: _ModelState | None = None  # Django: the model before this operation, when known

    def argument(self, parameter: str) -> ast.expr | None:
        """A Django operation's argument by parameter name, positional or keyword."""
        return _argument(self.call, fw.OPERATION_PARAMETERS[self.name].index(parameter), parameter)

    def alembic_argument(self, position: int, keyword: str) -> ast.expr | None:
        return _argument(self.call, position - 1 if self.batch else position, keyword)


@dataclass(eq=False)
class MigrationFile:
    """A Django migration or an Alembic revision: its operations and its data-migration code."""

    framework: str
    operations: list[Operation]
    forward_functions: list[ast.FunctionDef] = field(default_factory=list)
    upgrade: ast.FunctionDef | None = None
    downgrade: ast.FunctionDef | None = None


@dataclass
class _ModelState:
    fields: dict[str, ast.Call] = field(default_factory=dict)
    db_table: str | None = None


_State = dict[str, _ModelState]


# -- checks -----------------------------------------------------------------------------


@check(NOT_NULL_COLUMN_WITHOUT_DEFAULT, runs_on_migrations=True)
def not_null_column_without_default(index: ModuleIndex) -> Iterator[Report]:
    """not-null-column-without-default: a NOT NULL column without a default added to an existing table."""
    migration = read_migration(index)
    if migration is None:
        return
    for op in migration.operations:
        if op.created_here:
            continue
        column = None
        if op.name == fw.ADD_FIELD:
            column = _django_not_null_field(op)
        elif op.framework == ALEMBIC and op.name == fw.ADD_COLUMN:
            column = _alembic_not_null_column(op)
        if column is not None:
            yield _report(NOT_NULL_COLUMN_WITHOUT_DEFAULT, op, column=column)


@check(COLUMN_OR_TABLE_DROPPED, runs_on_migrations=True)
def column_or_table_dropped(index: ModuleIndex) -> Iterator[Report]:
    """column-or-table-dropped: a column or table dropped while deployed code may use it."""
    migration = read_migration(index)
    if migration is None:
        return
    for op in migration.operations:
        if op.separated or op.created_here:
            continue
        target = None
        if op.name == fw.REMOVE_FIELD:
            target = f"column {op.table}.{_constant(op.argument('name'))}"
        elif op.name == fw.DELETE_MODEL:
            target = f"the table of model {op.table}"
        elif op.framework == ALEMBIC and op.name == fw.DROP_COLUMN:
            target = f"column {op.table}.{_constant(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.DROP_COLUMN]))}"
        elif op.framework == ALEMBIC and op.name == fw.DROP_TABLE:
            target = f"table {op.table}"
        if target is not None:
            yield _report(COLUMN_OR_TABLE_DROPPED, op, target=target)


@check(COLUMN_OR_TABLE_RENAMED, runs_on_migrations=True)
def column_or_table_renamed(index: ModuleIndex) -> Iterator[Report]:
    """column-or-table-renamed: a column or table renamed while deployed code uses the old name."""
    migration = read_migration(index)
    if migration is None:
        return
    for op in migration.operations:
        if op.separated or op.created_here:
            continue
        target = _django_rename(op) if op.framework == DJANGO else _alembic_rename(op)
        if target is not None:
            yield _report(COLUMN_OR_TABLE_RENAMED, op, target=target)


@check(COLUMN_TYPE_OR_NULLABILITY_CHANGED, runs_on_migrations=True)
def column_type_or_nullability_changed(index: ModuleIndex) -> Iterator[Report]:
    """column-type-or-nullability-changed: a column's type changed or made NOT NULL in place."""
    migration = read_migration(index)
    if migration is None:
        return
    backend = _backend(index)
    checked = {op.table for op in migration.operations if _drops_check_constraint(op)}
    for op in migration.operations:
        if op.created_here:
            continue
        if op.name == fw.ALTER_FIELD:
            found = _django_column_change(op, backend, op.table in checked)
        elif op.framework == ALEMBIC and op.name == fw.ALTER_COLUMN:
            found = _alembic_column_change(op, backend, op.table in checked)
        else:
            continue
        if found is not None:
            change, fix = found
            yield _report(COLUMN_TYPE_OR_NULLABILITY_CHANGED, op, change=change, fix=fix)


@check(INDEX_CREATED_WITHOUT_CONCURRENTLY, runs_on_migrations=True)
def index_created_without_concurrently(index: ModuleIndex) -> Iterator[Report]:
    """index-created-without-concurrently: an index built on PostgreSQL while writes are blocked."""
    migration = read_migration(index)
    if migration is None or _backend(index) not in _POSTGRESQL_OR_UNKNOWN:
        return
    for op in migration.operations:
        if op.created_here:
            continue
        found = _django_index(op) if op.framework == DJANGO else _alembic_index(op)
        if found is not None:
            what, unique = found
            fix = _UNIQUE_FIX[op.framework] if unique else _FIX[INDEX_CREATED_WITHOUT_CONCURRENTLY.code, op.framework]
            yield _report(INDEX_CREATED_WITHOUT_CONCURRENTLY, op, index=what, table=op.table or "?", fix=fix)


@check(CONSTRAINT_ADDED_WITHOUT_NOT_VALID, runs_on_migrations=True)
def constraint_added_without_not_valid(index: ModuleIndex) -> Iterator[Report]:
    """constraint-added-without-not-valid: a CHECK or FOREIGN KEY validated under a lock on PostgreSQL."""
    migration = read_migration(index)
    if migration is None or _backend(index) not in _POSTGRESQL_OR_UNKNOWN:
        return
    for op in migration.operations:
        if op.created_here:
            continue
        constraint = None
        if op.name == fw.ADD_CONSTRAINT:
            value = op.argument("constraint")
            if isinstance(value, ast.Call) and call_name(value) == fw.CHECK_CONSTRAINT:
                constraint = f"check constraint {_keyword_text(value, 'name')}"
        elif op.framework == ALEMBIC and op.name in (fw.CREATE_FOREIGN_KEY, fw.CREATE_CHECK_CONSTRAINT):
            if not _is_true(_keyword(op.call, fw.POSTGRESQL_NOT_VALID)):
                kind = "foreign key" if op.name == fw.CREATE_FOREIGN_KEY else "check constraint"
                constraint = f"{kind} {_name_text(op.alembic_argument(*fw.NAME_ARGUMENT))}"
        if constraint is not None:
            yield _report(CONSTRAINT_ADDED_WITHOUT_NOT_VALID, op, constraint=constraint, table=op.table or "?")


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
    for scope in index.scopes:
        if id(scope.node) not in wanted:
            continue
        for site in scope.calls:
            if site.frame is None or site.leaves_loop or not _per_row(site.frame, index):
                continue
            method = _row_write(site.node, migration.framework, scope)
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
    ctx = _Context(index, index.module)
    for op in migration.operations:
        if op.name != fw.RUN_SQL:
            continue
        statements = [*_sql_statements(op.argument("sql")), *_sql_statements(op.argument(fw.REVERSE_SQL))]
        built = next(filter(None, (built_from_outside(s, ctx) for s in statements if not _is_ddl(s, ctx))), None)
        if built is not None:
            how, value = built
            yield Report(
                RUN_SQL_BUILT_FROM_STRINGS,
                op.call,
                {"sink": "RunSQL", "how": how, "value": source(value), "fix": _RUN_SQL_FIX},
            )


# -- reading a migration ----------------------------------------------------------------


def read_migration(index: ModuleIndex) -> MigrationFile | None:
    """The module's operations when it is a Django migration or an Alembic revision (read once)."""
    if "migration" not in index.memo:
        index.memo["migration"] = _read_migration(index)
    return index.memo["migration"]  # type: ignore[return-value]


def _read_migration(index: ModuleIndex) -> MigrationFile | None:
    for node in index.tree.body:
        if isinstance(node, ast.ClassDef) and node.name == fw.MIGRATION_CLASS and _is_django_migration(node):
            return _read_django(index, node)
    if _is_alembic_revision(index):
        return _read_alembic(index)
    return None


def _is_django_migration(node: ast.ClassDef) -> bool:
    return any(source(base).endswith(fw.MIGRATION_CLASS) for base in node.bases) and (
        _class_attribute(node, fw.OPERATIONS_ATTRIBUTE) is not None
    )


def _class_attribute(node: ast.ClassDef, name: str) -> ast.expr | None:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            return stmt.value
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            return stmt.value
    return None


def _read_django(index: ModuleIndex, node: ast.ClassDef) -> MigrationFile:
    operations: list[Operation] = []
    created: set[str] = set()
    _collect_django(_elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE)), created, False, operations)
    migration = MigrationFile(DJANGO, operations)
    functions = {f.name: f for f in index.tree.body if isinstance(f, ast.FunctionDef)}
    for op in operations:
        code = op.argument("code") if op.name == fw.RUN_PYTHON else None
        if isinstance(code, ast.Name) and code.id in functions:
            migration.forward_functions.append(functions[code.id])
    if any(op.name in _NEEDS_HISTORY for op in operations):
        _attach_history(index, node, operations)
    return migration


def _collect_django(calls: list[ast.expr], created: set[str], separated: bool, into: list[Operation]) -> None:
    for call in calls:
        if not isinstance(call, ast.Call):
            continue
        name = call_name(call) or ""
        if name == fw.SEPARATE_DATABASE_AND_STATE:
            database = _argument(call, 0, fw.DATABASE_OPERATIONS)
            _collect_django(_elements(database), created, True, into)
            continue
        if name not in fw.OPERATION_PARAMETERS:
            continue
        op = Operation(DJANGO, name, call, None, False, separated)
        model = _constant(op.argument(_MODEL_PARAMETER.get(name, "model_name"))) if name not in _NO_MODEL else None
        op.table = model.lower() if model else None
        op.created_here = op.table in created
        if name == fw.CREATE_MODEL and op.table:
            created.add(op.table)
        into.append(op)


_MODEL_PARAMETER = {
    fw.CREATE_MODEL: "name",
    fw.DELETE_MODEL: "name",
    fw.ALTER_MODEL_TABLE: "name",
    fw.RENAME_MODEL: "old_name",
}
_NO_MODEL = frozenset({fw.RUN_PYTHON, fw.RUN_SQL})
_NEEDS_HISTORY = frozenset({fw.ALTER_FIELD, fw.RENAME_FIELD, fw.RENAME_MODEL})


def _is_alembic_revision(index: ModuleIndex) -> bool:
    names: set[str] = set()
    has_upgrade = False
    for node in index.tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef) and node.name == fw.UPGRADE:
            has_upgrade = True
    return has_upgrade and bool(names & fw.REVISION_NAMES) and fw.ALEMBIC_OP in index.imports.values()


def _read_alembic(index: ModuleIndex) -> MigrationFile:
    functions = {f.name: f for f in index.tree.body if isinstance(f, ast.FunctionDef)}
    upgrade = functions.get(fw.UPGRADE)
    migration = MigrationFile(ALEMBIC, [], upgrade=upgrade, downgrade=functions.get(fw.DOWNGRADE))
    if upgrade is None:
        return migration
    op_names = {local for local, full in index.imports.items() if full == fw.ALEMBIC_OP}
    batches: dict[str, str | None] = {}
    for node in ast.walk(upgrade):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = item.context_expr
                if (
                    isinstance(value, ast.Call)
                    and _alembic_receiver(value) in op_names
                    and call_name(value) == fw.BATCH_ALTER_TABLE
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    table = _argument(value, *fw.TABLE_ARGUMENT[fw.BATCH_ALTER_TABLE])
                    batches[item.optional_vars.id] = _constant(table)
    calls = sorted((n for n in ast.walk(upgrade) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    created: set[str] = set()
    for call in calls:
        receiver, name = _alembic_receiver(call), call_name(call) or ""
        if receiver in op_names:
            op = Operation(ALEMBIC, name, call, None, False)
            if name in fw.TABLE_ARGUMENT:
                op.table = _constant(op.alembic_argument(*fw.TABLE_ARGUMENT[name]))
        elif receiver in batches:
            op = Operation(ALEMBIC, name, call, batches[receiver], False, batch=True)
        else:
            continue
        op.created_here = op.table is not None and op.table in created
        if name == fw.CREATE_TABLE and op.table:
            created.add(op.table)
        migration.operations.append(op)
    return migration


def _alembic_receiver(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return None


# -- what each operation does -------------------------------------------------------------


def _django_not_null_field(op: Operation) -> str | None:
    value = op.argument("field")
    if not isinstance(value, ast.Call):
        return None
    kind = call_name(value) or ""
    if kind in fw.FIELDS_WITHOUT_COLUMN or kind.endswith("AutoField") or _is_true(_keyword(value, fw.NULL_KEYWORD)):
        return None
    if any(_keyword(value, k) is not None for k in fw.DEFAULT_KEYWORDS) or _is_true(_keyword(value, "primary_key")):
        return None
    return f"{op.table}.{_constant(op.argument('name'))}"


def _alembic_not_null_column(op: Operation) -> str | None:
    column = op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ADD_COLUMN])
    if not isinstance(column, ast.Call) or call_name(column) != fw.COLUMN_CLASS:
        return None
    nullable = _keyword(column, fw.NULLABLE_KEYWORD)
    if not (isinstance(nullable, ast.Constant) and nullable.value is False):
        return None
    if _keyword(column, fw.SERVER_DEFAULT_KEYWORD) is not None:
        return None
    if any(isinstance(a, ast.Call) and call_name(a) in fw.GENERATED_COLUMN_CLASSES for a in column.args):
        return None
    name = _constant(column.args[0]) if column.args else _constant(_keyword(column, "name"))
    return f"{op.table}.{name}"


def _django_rename(op: Operation) -> str | None:
    if op.name == fw.RENAME_FIELD:
        old_name = _constant(op.argument("old_name"))
        previous = op.previous.fields.get(old_name or "") if op.previous else None
        if previous is not None and _keyword(previous, fw.DB_COLUMN_KEYWORD) is not None:
            return None  # the column keeps its name
        return f"column {op.table}.{old_name} to {_constant(op.argument('new_name'))}"
    if op.name == fw.RENAME_MODEL:
        if op.previous is not None and op.previous.db_table:
            return None  # db_table pins the table name
        return f"the table of model {op.table} (now {(_constant(op.argument('new_name')) or '?').lower()})"
    if op.name == fw.ALTER_MODEL_TABLE:
        return f"the table of model {op.table} to {_constant(op.argument('table'))}"
    if op.name == fw.ALTER_FIELD and op.previous is not None:
        field_name = _constant(op.argument("name")) or ""
        old, new = op.previous.fields.get(field_name), op.argument("field")
        if old is not None and isinstance(new, ast.Call):
            old_column, new_column = _column_name(old, field_name), _column_name(new, field_name)
            if old_column != new_column:
                return f"column {op.table}.{old_column} to {new_column}"
    return None


def _alembic_rename(op: Operation) -> str | None:
    if op.name == fw.RENAME_TABLE:
        return f"table {op.table} to {_constant(op.alembic_argument(1, 'new_table_name'))}"
    if op.name == fw.ALTER_COLUMN:
        new_name = _keyword(op.call, fw.NEW_COLUMN_NAME_KEYWORD)
        if new_name is not None:
            column = _constant(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ALTER_COLUMN]))
            return f"column {op.table}.{column} to {_constant(new_name) or source(new_name)}"
    return None


def _drops_check_constraint(op: Operation) -> bool:
    """The last step of the safe NOT NULL sequence drops the check constraint that proved it."""
    if op.name == fw.REMOVE_CONSTRAINT:
        return True
    return op.name == fw.DROP_CONSTRAINT and _constant(_keyword(op.call, fw.CONSTRAINT_TYPE_KEYWORD)) == (
        fw.CHECK_CONSTRAINT_TYPE
    )


def _django_column_change(op: Operation, backend: str | None, checked: bool) -> tuple[str, str] | None:
    name = _constant(op.argument("name")) or "?"
    new = op.argument("field")
    if not isinstance(new, ast.Call):
        return None
    column = f"column {op.table}.{name}"
    old = op.previous.fields.get(name) if op.previous is not None else None
    if old is None:
        return (
            f"may change the type or nullability of {column} (its previous definition was not found)",
            _UNKNOWN_FIX,
        )
    type_change = _field_type(old) != _field_type(new) and not (
        backend in _POSTGRESQL_OR_UNKNOWN and _widens_varchar(old, new)
    )
    was_nullable, nullable = _is_true(_keyword(old, fw.NULL_KEYWORD)), _is_true(_keyword(new, fw.NULL_KEYWORD))
    tightened = was_nullable and not nullable and not checked
    return _describe_change(column, _field_text(old), _field_text(new), type_change, tightened)


def _alembic_column_change(op: Operation, backend: str | None, checked: bool) -> tuple[str, str] | None:
    column = f"column {op.table}.{_constant(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ALTER_COLUMN]))}"
    new, old = _keyword(op.call, fw.TYPE_KEYWORD), _keyword(op.call, fw.EXISTING_TYPE_KEYWORD)
    type_change = new is not None and (old is None or ast.dump(old) != ast.dump(new))
    if (
        type_change
        and new is not None
        and old is not None
        and backend in _POSTGRESQL_OR_UNKNOWN
        and (_widens_string(old, new))
    ):
        type_change = False
    nullable, existing = _keyword(op.call, fw.NULLABLE_KEYWORD), _keyword(op.call, fw.EXISTING_NULLABLE_KEYWORD)
    tightened = not checked and _is_false(nullable) and not _is_false(existing)
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


def _django_index(op: Operation) -> tuple[str, bool] | None:
    """(description, unique) for an operation that builds an index without CONCURRENTLY."""
    if op.name == fw.ADD_INDEX:
        return f"index {_keyword_text(op.argument('index'), 'name')}", False
    if op.name == fw.ADD_CONSTRAINT:
        value = op.argument("constraint")
        if isinstance(value, ast.Call) and call_name(value) == fw.UNIQUE_CONSTRAINT:
            return f"unique constraint {_keyword_text(value, 'name')}", True
        return None
    if op.name == fw.ADD_FIELD:
        name = _constant(op.argument("name")) or ""
        new = op.argument("field")
        if isinstance(new, ast.Call) and _is_true(_keyword(new, "unique")):
            return f"a unique index for {name}", True
        if isinstance(new, ast.Call) and _is_true(_keyword(new, "db_index")):
            return f"an index for {name}", False
        return None
    if op.name == fw.ALTER_FIELD and op.previous is not None:
        name = _constant(op.argument("name")) or ""
        old, new = op.previous.fields.get(name), op.argument("field")
        if old is None or not isinstance(new, ast.Call):
            return None
        if _is_true(_keyword(new, "unique")) and not _is_true(_keyword(old, "unique")):
            return f"a unique index for {name}", True
        if _db_index(new) and not _db_index(old) and not _is_true(_keyword(old, "unique")):
            return f"an index for {name}", False
    return None


def _alembic_index(op: Operation) -> tuple[str, bool] | None:
    if op.name == fw.CREATE_INDEX and not _is_true(_keyword(op.call, fw.POSTGRESQL_CONCURRENTLY)):
        return f"index {_name_text(op.alembic_argument(*fw.INDEX_NAME_ARGUMENT))}", False
    if op.name == fw.CREATE_UNIQUE_CONSTRAINT:
        return f"unique constraint {_name_text(op.alembic_argument(*fw.NAME_ARGUMENT))}", True
    return None


def _empty_downgrade(migration: MigrationFile) -> Iterator[Report]:
    downgrade = migration.downgrade
    if downgrade is None or not _does_nothing(downgrade.body):
        return
    changes = [op for op in migration.operations if not op.batch and op.name in fw.SCHEMA_DIRECTIVES]
    if changes:
        yield Report(
            MIGRATION_WITHOUT_REVERSE,
            downgrade,
            {
                "operation": "downgrade()",
                "consequence": f"it does nothing while upgrade() runs {short_call(changes[0].call)}",
                "fix": _REVERSE_FIX[fw.DOWNGRADE],
            },
        )


def _does_nothing(body: list[ast.stmt]) -> bool:
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in body
    )


def _row_write(call: ast.Call, framework: str, scope: Scope) -> str | None:
    """The write method when this call writes one row each time it runs."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    method = func.attr
    if framework == ALEMBIC:
        if method != fw.EXECUTE or not isinstance(func.value, ast.Name):
            return None
        receiver = func.value.id
        bound = any(
            isinstance(v, ast.Call) and call_name(v) in (fw.GET_BIND, "connect")
            for v in scope.assignments.get(receiver, [])
        )
        return method if receiver in fw.CONNECTION_NAMES or bound else None
    if method not in fw.ROW_WRITE_METHODS:
        return None
    if method in fw.INSTANCE_ROW_METHODS and not call.args and not call.keywords:
        return method
    if method == "save":
        return method  # save(update_fields=[...]) is still one UPDATE per row
    _, steps = unchain(func.value)
    managers = django.MANAGER_ATTRIBUTES | django.LAZY_METHODS
    if any(s.name in managers or s.name.endswith(django.REVERSE_MANAGER_SUFFIX) for s in steps):
        return method
    return None


def _per_row(frame: LoopFrame | None, index: ModuleIndex) -> bool:
    """query-in-loop's test (not a fixed list, not a batch loop), and not a loop over module constants."""
    if not _runs_per_item(frame):
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


def _sql_statements(value: ast.expr | None) -> list[ast.expr]:
    """The SQL texts of a RunSQL argument: a string, a list of strings or of (sql, params)."""
    if value is None:
        return []
    if isinstance(value, (ast.List, ast.Tuple)):
        texts = []
        for item in value.elts:
            if isinstance(item, ast.Tuple) and len(item.elts) == 2:
                texts.append(item.elts[0])
            else:
                texts.append(item)
        return texts
    return [value]


# -- the model state before a Django operation -----------------------------------------


def _attach_history(index: ModuleIndex, node: ast.ClassDef, operations: list[Operation]) -> None:
    state = _state_of_dependencies(Path(index.filename), _class_attribute(node, fw.DEPENDENCIES_ATTRIBUTE))
    by_call = {id(op.call): op for op in operations}
    for call in _elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE)):
        if not isinstance(call, ast.Call):
            continue
        nested = [call]
        if call_name(call) == fw.SEPARATE_DATABASE_AND_STATE:
            nested = [c for c in _elements(_argument(call, 0, fw.DATABASE_OPERATIONS)) if isinstance(c, ast.Call)]
        for inner in nested:
            op = by_call.get(id(inner))
            if op is not None and op.name in _NEEDS_HISTORY and op.table in state:
                model = state[op.table]
                op.previous = _ModelState(dict(model.fields), model.db_table)
        _apply(state, call)


def _state_of_dependencies(path: Path, dependencies: ast.expr | None) -> _State:
    """The app's models after the migrations this one depends on, read from the same folder."""
    state: _State = {}
    for file in _own_dependencies(path, dependencies):
        for model, fields in (_state_after(file) or {}).items():
            state[model] = _ModelState(dict(fields.fields), fields.db_table)
    return state


def _own_dependencies(path: Path, dependencies: ast.expr | None) -> list[Path]:
    """The dependency files in this app's migrations folder (named after the app)."""
    app_label = path.parent.parent.name
    files = []
    for item in _elements(dependencies):
        if isinstance(item, ast.Tuple) and len(item.elts) == 2:
            label, name = (_constant(e) for e in item.elts)
            if label == app_label and name:
                file = path.parent / f"{name}.py"
                if file.is_file():
                    files.append(file)
    return files


# Per process (flake8 and `orm-lint check` are short-lived): each file is read once.
_STATES: dict[Path, _State | None] = {}
_MAX_HISTORY = 10_000


def _state_after(path: Path) -> _State | None:
    """The model state after a migration file; iterative so long histories do not recurse."""
    path = path.resolve()
    pending: list[Path] = [path]
    visiting: set[Path] = set()
    while pending and len(_STATES) < _MAX_HISTORY:
        current = pending[-1]
        if current in _STATES:
            pending.pop()
            continue
        parsed = _parse_migration_file(current)
        if parsed is None:
            _STATES[current] = None
            pending.pop()
            continue
        operations, dependencies = parsed
        missing = [d.resolve() for d in _own_dependencies(current, dependencies) if d.resolve() not in _STATES]
        if missing and current not in visiting:
            visiting.add(current)
            pending.extend(missing)
            continue
        state: _State = {}
        for dependency in _own_dependencies(current, dependencies):
            for model, known in (_STATES.get(dependency.resolve()) or {}).items():
                state[model] = _ModelState(dict(known.fields), known.db_table)
        for call in operations:
            _apply(state, call)
        _STATES[current] = state
        pending.pop()
    return _STATES.get(path)


@lru_cache(maxsize=32)
def _parse_migration_file(path: Path) -> tuple[list[ast.expr], ast.expr | None] | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == fw.MIGRATION_CLASS:
            operations = _elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE))
            return operations, _class_attribute(node, fw.DEPENDENCIES_ATTRIBUTE)
    return None


def _apply(state: _State, call: ast.expr) -> None:
    """Apply one operation's effect on the model state (what makemigrations tracks)."""
    if not isinstance(call, ast.Call):
        return
    kind = call_name(call) or ""
    if kind in (fw.SEPARATE_DATABASE_AND_STATE, fw.RUN_SQL):
        position = 1 if kind == fw.SEPARATE_DATABASE_AND_STATE else 2
        for inner in _elements(_argument(call, position, fw.STATE_OPERATIONS)):
            _apply(state, inner)
        return
    parameters = fw.OPERATION_PARAMETERS.get(kind)
    if parameters is None:
        return
    values = {p: _argument(call, i, p) for i, p in enumerate(parameters)}
    text = {p: _constant(v) or "" for p, v in values.items()}
    if kind == fw.CREATE_MODEL:
        state[text["name"].lower()] = _created_model(values["fields"], values["options"])
    elif kind in (fw.DELETE_MODEL, fw.RENAME_MODEL, fw.ALTER_MODEL_TABLE):
        old_key = text["old_name" if kind == fw.RENAME_MODEL else "name"].lower()
        moved = state.pop(old_key, None)
        if moved is not None and kind == fw.RENAME_MODEL:
            state[text["new_name"].lower()] = moved
        elif moved is not None and kind == fw.ALTER_MODEL_TABLE:
            moved.db_table = text["table"] or None
            state[old_key] = moved
    elif "model_name" in parameters and text["model_name"].lower() in state:
        fields = state[text["model_name"].lower()].fields
        field_call = values.get("field")
        if kind in (fw.ADD_FIELD, fw.ALTER_FIELD) and isinstance(field_call, ast.Call):
            fields[text["name"]] = field_call
        elif kind == fw.REMOVE_FIELD:
            fields.pop(text["name"], None)
        elif kind == fw.RENAME_FIELD and text["old_name"] in fields:
            fields[text["new_name"]] = fields.pop(text["old_name"])


def _created_model(fields: ast.expr | None, options: ast.expr | None) -> _ModelState:
    model = _ModelState()
    for item in _elements(fields):
        if isinstance(item, ast.Tuple) and len(item.elts) == 2 and isinstance(item.elts[1], ast.Call):
            model.fields[_constant(item.elts[0]) or ""] = item.elts[1]
    if isinstance(options, ast.Dict):
        for option, value in zip(options.keys, options.values):
            if option is not None and _constant(option) == fw.DB_TABLE_OPTION:
                model.db_table = _constant(value)
    return model


# -- small syntax helpers -------------------------------------------------------------


def _report(rule: Rule, op: Operation, **values: str) -> Report:
    values.setdefault("fix", _FIX.get((rule.code, op.framework), ""))
    return Report(rule, op.call, {"operation": _operation_text(op), **values})


def _operation_text(op: Operation) -> str:
    return op.name if op.framework == DJANGO else f"{'batch_op' if op.batch else 'op'}.{op.name}()"


def _backend(index: ModuleIndex) -> str | None:
    backend = getattr(index, "backend", None)
    return backend.lower() if isinstance(backend, str) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return call.args[position]
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _elements(value: ast.expr | None) -> list[ast.expr]:
    if isinstance(value, (ast.List, ast.Tuple)):
        return list(value.elts)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _elements(value.left) + _elements(value.right)
    return []


def _constant(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def _is_true(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def _is_false(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def _name_text(value: ast.expr | None) -> str:
    """An index or constraint name: `"ix_a"` or `op.f("ix_a")`."""
    if isinstance(value, ast.Call) and value.args:
        value = value.args[0]
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return "(unnamed)"
    return _constant(value) or source(value)


def _keyword_text(value: ast.expr | None, keyword: str) -> str:
    if not isinstance(value, ast.Call):
        return "(unnamed)"
    return _name_text(_keyword(value, keyword))


def _field_type(call: ast.Call) -> tuple[str, ...]:
    """What decides the column's SQL type: the field class, its positional and type arguments."""
    arguments = [ast.dump(a) for a in call.args]
    arguments.extend(f"{k.arg}={ast.dump(k.value)}" for k in call.keywords if k.arg in fw.TYPE_KEYWORDS)
    return (call_name(call) or "", *sorted(arguments))


def _field_text(call: ast.Call) -> str:
    kind = call_name(call) or "?"
    arguments = [f"{k.arg}={source(k.value)}" for k in call.keywords if k.arg in fw.TYPE_KEYWORDS]
    return f"{kind}({', '.join(arguments)})"


def _int_keyword(call: ast.Call, name: str) -> int | None:
    value = _keyword(call, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def _widens_varchar(old: ast.Call, new: ast.Call) -> bool:
    """A longer varchar, or varchar to text: PostgreSQL changes only the catalogue."""
    old_kind, new_kind = call_name(old), call_name(new)
    if old_kind not in fw.VARCHAR_FIELDS:
        return False
    rest_old = [k for k in _field_type(old) if not k.startswith(fw.MAX_LENGTH_KEYWORD)][1:]
    rest_new = [k for k in _field_type(new) if not k.startswith(fw.MAX_LENGTH_KEYWORD)][1:]
    if new_kind in fw.TEXT_FIELDS:
        return rest_old == rest_new
    old_length, new_length = _int_keyword(old, fw.MAX_LENGTH_KEYWORD), _int_keyword(new, fw.MAX_LENGTH_KEYWORD)
    return (
        new_kind == old_kind
        and rest_old == rest_new
        and old_length is not None
        and (new_length is None or new_length >= old_length)
    )


def _widens_string(old: ast.expr, new: ast.expr) -> bool:
    """Alembic `sa.String(length=50)` to a longer `String`/`VARCHAR`, or to `Text`."""
    if not (isinstance(old, ast.Call) and isinstance(new, ast.Call)):
        return False
    old_kind, new_kind = call_name(old), call_name(new)
    if old_kind not in fw.VARCHAR_TYPES:
        return False
    if new_kind in fw.TEXT_TYPES:
        return True
    if new_kind not in fw.VARCHAR_TYPES:
        return False
    old_length, new_length = _string_length(old), _string_length(new)
    return old_length is not None and (new_length is None or new_length >= old_length)


def _string_length(call: ast.Call) -> int | None:
    value = call.args[0] if call.args else _keyword(call, fw.LENGTH_KEYWORD)
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return value.value
    return None


def _db_index(call: ast.Call) -> bool:
    value = _keyword(call, "db_index")
    if value is not None:
        return _is_true(value)
    return call_name(call) in fw.FOREIGN_KEY_FIELDS


def _column_name(call: ast.Call, name: str) -> str:
    column = _constant(_keyword(call, fw.DB_COLUMN_KEYWORD))
    if column:
        return column
    return f"{name}_id" if call_name(call) in fw.FOREIGN_KEY_FIELDS else name
