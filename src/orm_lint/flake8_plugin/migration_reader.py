"""What a migration does, read without a database: Django migrations and Alembic revisions.

A module is read once into a list of operations (`read_migration`); the migration rules walk
that list. Django operations carry the model state rebuilt from the app's earlier migration
files (`Operation.previous`), so that only changes the database sees are reported; when that
state is unknown, it is None. Alembic operations say whether they run only on another dialect
or outside the transaction. Facts about field and column types (what a change rewrites on
PostgreSQL) live here too; which of them is a finding, and how it is worded, is the rules' call.
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..files import read_source
from ..frameworks import django
from ..frameworks import migrations as fw
from .queries import CONSULTED, call_name, unchain
from .render import source
from .scope import ModuleIndex, Scope

DJANGO = "django"
ALEMBIC = "alembic"
# Backends on which the PostgreSQL locking rules apply; None is "not configured".
POSTGRESQL_OR_UNKNOWN = (None, fw.POSTGRESQL)


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
    table_text: str = "?"  # the table for messages: its name, or the expression that gives it
    other_dialect: bool = False  # Alembic: inside an `if` branch that runs only on MySQL/SQLite/...
    column_added_here: bool = False  # an alter or rename of a column added earlier in this migration
    autocommit: bool = False  # Alembic: inside `op.get_context().autocommit_block()`, outside the transaction
    constants: dict[str, str] = field(default_factory=dict)  # the module's string constants, for messages

    def argument(self, parameter: str) -> ast.expr | None:
        """A Django operation's argument by parameter name, positional or keyword."""
        return _argument(self.call, fw.OPERATION_PARAMETERS[self.name].index(parameter), parameter)

    def alembic_argument(self, position: int, keyword: str) -> ast.expr | None:
        """An Alembic directive's argument; in `batch_op.*` the table argument is missing, so only the
        arguments after it move up (`batch_op.create_index(name, columns)` keeps its name first)."""
        table_position = fw.TABLE_ARGUMENT.get(self.name, (0, ""))[0]
        return _argument(self.call, position - 1 if self.batch and position > table_position else position, keyword)

    @property
    def without_table(self) -> bool:
        """A Django model known to have no table of its own (proxy, managed=False): no DDL runs."""
        return self.previous is not None and not self.previous.has_table


@dataclass(eq=False)
class MigrationFile:
    """A Django migration or an Alembic revision: its operations and its data-migration code."""

    framework: str
    operations: list[Operation]
    forward_functions: list[ast.FunctionDef] = field(default_factory=list)
    upgrade: ast.FunctionDef | None = None
    downgrade: ast.FunctionDef | None = None
    squashed: bool = False  # Django `replaces = [...]`: runs only on a fresh database
    initial: bool = False  # Django `initial = True`: one of the app's first migrations, on its new tables
    after_deploy: bool = False  # django-safemigrate/syzygy: runs once the new code is deployed
    app_label: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    atomic: bool = True  # Django `atomic = False`: no transaction around the operations

    def schema_operations(self) -> Iterator[Operation]:
        """The operations the schema rules (ORM401-ORM406) look at."""
        if self.squashed or self.initial:
            return
        for op in self.operations:
            if not op.created_here and not op.without_table:
                yield op


@dataclass
class _ModelState:
    fields: dict[str, ast.Call] = field(default_factory=dict)
    db_table: str | None = None
    proxy: bool = False
    managed: bool = True
    # fields set by a SeparateDatabaseAndState's state_operations: what their column is, the database knows
    state_only: set[str] = field(default_factory=set)
    # created by state_operations (a model moved between apps): its table is whatever the SQL beside it made
    table_unknown: bool = False
    created_in: str | None = None  # the file name of the migration in this folder whose CreateModel made the table
    added_in: dict[str, str] = field(default_factory=dict)  # a field AddField added later: that migration's file name

    @property
    def has_table(self) -> bool:
        """Django runs DDL only for a managed model that is not a proxy (Options.can_migrate)."""
        return self.managed and not self.proxy

    def copy(self) -> _ModelState:
        return _ModelState(
            dict(self.fields),
            self.db_table,
            self.proxy,
            self.managed,
            set(self.state_only),
            self.table_unknown,
            self.created_in,
            dict(self.added_in),
        )


_State = dict[str, _ModelState]
_Names = dict[str, ast.expr]


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


def _names(module: ast.Module, node: ast.ClassDef) -> _Names:
    """Simple `name = value` assignments of the module and the Migration class body, by name.

    Lists of operations are sometimes built beside `operations` (`state_operations = [...]`).
    """
    names: _Names = {}
    for stmt in [*module.body, *node.body]:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            names[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            names[stmt.target.id] = stmt.value
    return names


def _runs_after_deploy(node: ast.ClassDef) -> bool:
    """`safe = Safe.after_deploy()` / `Safe.always()` (django-safemigrate), `stage = Stage.POST_DEPLOY` (syzygy)."""
    markers = (
        (fw.SAFEMIGRATE_ATTRIBUTE, fw.SAFEMIGRATE_CLASS, fw.SAFEMIGRATE_AFTER_DEPLOY),
        (fw.SYZYGY_ATTRIBUTE, fw.SYZYGY_CLASS, fw.SYZYGY_AFTER_DEPLOY),
    )
    for attribute, owner, values in markers:
        value = _class_attribute(node, attribute)
        if isinstance(value, ast.Call):
            value = value.func
        if isinstance(value, ast.Attribute) and value.attr in values and source(value.value).endswith(owner):
            return True
    return False


def _read_django(index: ModuleIndex, node: ast.ClassDef) -> MigrationFile:
    names = _names(index.tree, node)
    operations: list[Operation] = []
    created: set[str] = set()
    listed = _elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE), names)
    _collect_django(listed, names, created, False, operations)
    constants = _module_strings(index, None)
    for op in operations:
        op.constants = constants
    migration = MigrationFile(DJANGO, operations, imports=index.imports)
    migration.squashed = bool(_elements(_class_attribute(node, fw.REPLACES_ATTRIBUTE), names))
    initial = _class_attribute(node, fw.INITIAL_ATTRIBUTE)
    own = _own_dependencies(Path(index.filename), _class_attribute(node, fw.DEPENDENCIES_ATTRIBUTE), names)
    migration.initial = is_true(initial) and all(_is_initial(file) for file in own)
    flag = initial.value if isinstance(initial, ast.Constant) and isinstance(initial.value, bool) else None
    if len(_DETECTED_INITIAL) < _MAX_HISTORY:
        _DETECTED_INITIAL[Path(index.filename).resolve()] = flag is True or (flag is None and not own)
    migration.after_deploy = _runs_after_deploy(node)
    migration.atomic = not is_false(_class_attribute(node, fw.ATOMIC_ATTRIBUTE))
    migration.app_label = _app_label(Path(index.filename))
    functions = {f.name: f for f in index.tree.body if isinstance(f, ast.FunctionDef)}
    for op in operations:
        code = op.argument("code") if op.name == fw.RUN_PYTHON else None
        if isinstance(code, ast.Name) and code.id in functions:
            migration.forward_functions.append(functions[code.id])
    _mark_added_columns(operations)
    if not migration.squashed:
        _attach_history(index, node, names, operations, any(op.table and not op.created_here for op in operations))
    return migration


def _is_initial(path: Path) -> bool:
    """Django's test (MigrationExecutor.detect_soft_applied): `initial = True`, or no dependency in its own app."""
    known = _DETECTED_INITIAL.get(path.resolve())
    if known is not None:
        return known
    parsed = _parse_migration_file(path.resolve())
    if parsed is None:
        return False
    _, dependencies, names, initial = parsed
    return initial is True or (initial is None and not _own_dependencies(path, dependencies, names))


def _mark_added_columns(operations: list[Operation]) -> None:
    """AlterField and RenameField of a field an AddField added earlier in the migration (under any name).

    No deployed code knows that column: `AddField(new_x)`, copy, `RemoveField(x)`, `RenameField(new_x, x)`
    renames nothing the previous release uses.
    """
    added: set[tuple[str | None, str]] = set()
    for op in operations:
        if op.name == fw.ADD_FIELD:
            added.add((op.table, string_value(op.argument("name")) or ""))
        elif op.name == fw.ALTER_FIELD:
            op.column_added_here = (op.table, string_value(op.argument("name")) or "") in added
        elif op.name == fw.RENAME_FIELD:
            op.column_added_here = (op.table, string_value(op.argument("old_name")) or "") in added
            if op.column_added_here:
                added.add((op.table, string_value(op.argument("new_name")) or ""))


def _collect_django(
    calls: list[ast.expr], names: _Names, created: set[str], separated: bool, into: list[Operation]
) -> None:
    for call in calls:
        if not isinstance(call, ast.Call):
            continue
        name = call_name(call) or ""
        if name == fw.SEPARATE_DATABASE_AND_STATE:
            database = _argument(call, 0, fw.DATABASE_OPERATIONS)
            _collect_django(_elements(database, names), names, created, True, into)
            continue
        if name not in fw.OPERATION_PARAMETERS:
            continue
        op = Operation(DJANGO, name, call, None, False, separated)
        model = string_value(op.argument(_MODEL_PARAMETER.get(name, "model_name"))) if name not in _NO_MODEL else None
        op.table = model.lower() if model else None
        op.table_text = op.table or "?"
        op.created_here = op.table in created
        if name == fw.CREATE_MODEL and op.table:
            created.add(op.table)
        into.append(op)


_MODEL_PARAMETER = {
    fw.CREATE_MODEL: "name",
    fw.DELETE_MODEL: "name",
    fw.ALTER_MODEL_TABLE: "name",
    fw.ALTER_MODEL_OPTIONS: "name",
    fw.RENAME_MODEL: "old_name",
    fw.ALTER_UNIQUE_TOGETHER: "name",
}
_NO_MODEL = frozenset({fw.RUN_PYTHON, fw.RUN_SQL})


def _app_label(path: Path) -> str:
    """Django's default app label: the package that holds the migrations folder.

    From the absolute path: `0002_x.py` checked on its own, inside its folder, belongs to the same app.
    """
    return Path(os.path.abspath(path)).parent.parent.name


_DECLARED_LABEL = re.compile(rb"^[ \t]+label\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)


@lru_cache(maxsize=256)
def _declared_label(app: Path) -> str | None:
    """The `label = "..."` of the AppConfig in the app's `apps.py` (`misago_notifications`), if it sets one."""
    try:
        found = _DECLARED_LABEL.search((app / "apps.py").read_bytes())
    except OSError:
        return None
    return found.group(1).decode() if found else None


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
    migration = MigrationFile(
        ALEMBIC, [], upgrade=upgrade, downgrade=functions.get(fw.DOWNGRADE), imports=index.imports
    )
    if upgrade is None:
        return migration
    op_names = {local for local, full in index.imports.items() if full == fw.ALEMBIC_OP}
    batches = _batch_tables(upgrade, op_names)
    other_dialect = _other_dialect_calls(upgrade)
    autocommit = _autocommit_calls(upgrade)
    local = next((scope for scope in index.scopes if scope.node is upgrade), None)
    constants = _module_strings(index, local)
    rebound = _rebound_names(local)
    calls = sorted((n for n in ast.walk(upgrade) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    created: set[str] = set()
    added: set[tuple[str, str]] = set()
    for call in calls:
        receiver, name = _alembic_receiver(call), call_name(call) or ""
        if receiver in op_names:
            op = Operation(ALEMBIC, name, call, None, False, constants=constants)
            table = op.alembic_argument(*fw.TABLE_ARGUMENT[name]) if name in fw.TABLE_ARGUMENT else None
        elif id(call) in batches:
            op = Operation(ALEMBIC, name, call, None, False, batch=True, constants=constants)
            table = batches[id(call)]
        else:
            continue
        op.table = string_value(table, constants)
        op.table_text = display_text(table, constants)
        op.other_dialect = id(call) in other_dialect
        op.autocommit = id(call) in autocommit
        key = _table_key(table, constants, rebound)
        op.created_here = key is not None and key in created
        if name == fw.CREATE_TABLE and key is not None:
            created.add(key)
        column = string_value(added_column(op), constants) if name == fw.ADD_COLUMN else None
        if column is not None:
            added.add((op.table_text, column))
        if name == fw.ALTER_COLUMN:
            old = string_value(op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ALTER_COLUMN]), constants)
            op.column_added_here = old is not None and (op.table_text, old) in added
        migration.operations.append(op)
    return migration


def _module_strings(index: ModuleIndex, local: Scope | None) -> dict[str, str]:
    """Module-level names bound once, to a string, and not shadowed in upgrade(): `TABLE = "book"`."""
    found = {}
    for name, values in index.module.assignments.items():
        if len(values) != 1 or name in index.module.loop_bindings:
            continue
        if local is not None and (name in local.assignments or name in local.params or name in local.loop_bindings):
            continue
        value = string_value(values[0])
        if value is not None:
            found[name] = value
    return found


def _rebound_names(scope: Scope | None) -> set[str]:
    """Names upgrade() binds more than once: an expression using them may name another table each time."""
    if scope is None:
        return set()
    counts: dict[str, int] = {}
    for name, values in scope.assignments.items():
        counts[name] = counts.get(name, 0) + len(values)
    for name, frames in scope.loop_bindings.items():
        counts[name] = counts.get(name, 0) + len(frames)
    for name, values in scope.contributions.items():
        counts[name] = counts.get(name, 0) + len(values) + 1
    return {name for name, count in counts.items() if count > 1}


def _table_key(table: ast.expr | None, constants: dict[str, str], rebound: set[str]) -> str | None:
    """What identifies a table across one upgrade(): its name, or the expression that computes it.

    `f"{prefix}book"` names the same table each time while `prefix` is bound once and no call is involved.
    """
    if table is None:
        return None
    name = string_value(table, constants)
    if name is not None:
        return name
    for node in ast.walk(table):
        if isinstance(node, ast.Call) or (isinstance(node, ast.Name) and node.id in rebound):
            return None
    return ast.dump(table)


def _batch_tables(upgrade: ast.FunctionDef, op_names: set[str]) -> dict[int, ast.expr | None]:
    """Each `batch_op.*()` call's table: the one its own `with op.batch_alter_table(...)` block names.

    Blocks usually all bind `batch_op`; an inner block wins over the block around it.
    """
    tables: dict[int, ast.expr | None] = {}
    for node in ast.walk(upgrade):  # outer blocks first: an inner one overwrites them
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        for item in node.items:
            value = item.context_expr
            if (
                isinstance(value, ast.Call)
                and _alembic_receiver(value) in op_names
                and call_name(value) == fw.BATCH_ALTER_TABLE
                and isinstance(item.optional_vars, ast.Name)
            ):
                table = _argument(value, *fw.TABLE_ARGUMENT[fw.BATCH_ALTER_TABLE])
                bound = item.optional_vars.id
                for statement in node.body:
                    for call in ast.walk(statement):
                        if isinstance(call, ast.Call) and _alembic_receiver(call) == bound:
                            tables[id(call)] = table
    return tables


def _autocommit_calls(function: ast.FunctionDef) -> set[int]:
    """The calls inside `with op.get_context().autocommit_block():`."""
    found: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call) and call_name(item.context_expr) == fw.AUTOCOMMIT_BLOCK
            for item in node.items
        ):
            found.update(id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Call))
    return found


def _alembic_receiver(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return None


def _other_dialect_calls(function: ast.FunctionDef) -> set[int]:
    """The calls inside `if` branches that run only on a database other than PostgreSQL."""
    found: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.If):
            body_other, else_other = dialect_branches(node.test)
            for branch, other in ((node.body, body_other), (node.orelse, else_other)):
                if other:
                    found.update(id(n) for stmt in branch for n in ast.walk(stmt) if isinstance(n, ast.Call))
    return found


def dialect_branches(test: ast.expr) -> tuple[bool, bool]:
    """(the body runs only on other databases, the else branch does) for a test of the dialect.

    Understood: `name == "mysql"`, `!=`, `in (...)`, `not in`, `url.startswith("sqlite")`,
    `"mysql" in url`, `not ...`, `... is False`, and `and`/`or` of those; anything else is (False, False).
    """
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        body, orelse = dialect_branches(test.operand)
        return orelse, body
    if isinstance(test, ast.BoolOp):
        parts = [dialect_branches(value) for value in test.values]
        if isinstance(test.op, ast.And):
            return any(b for b, _ in parts), all(e for _, e in parts)
        return all(b for b, _ in parts), any(e for _, e in parts)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        operator, right = test.ops[0], test.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, bool):
            body, orelse = dialect_branches(test.left)
            negated = isinstance(operator, (ast.Is, ast.Eq)) is (right.value is False)
            return (orelse, body) if negated else (body, orelse)
    found = _dialect_names(test)
    if found is None:
        return False, False
    positive, names = found
    postgresql = any(name.startswith(tuple(fw.POSTGRESQL_DIALECTS)) for name in names)
    # positive: the body runs on `names` only; negative: on every database but `names`.
    return (not postgresql, postgresql) if positive else (postgresql, not postgresql)


def _dialect_names(test: ast.expr) -> tuple[bool, list[str]] | None:
    """(positive, dialect names) when `test` is true exactly for (or exactly not for) those dialects."""
    positive = True
    texts: list[ast.expr] = []
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "startswith":
        texts = list(test.args[:1])
        if texts and isinstance(texts[0], ast.Tuple):
            texts = list(texts[0].elts)
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        operator, left, right = test.ops[0], test.left, test.comparators[0]
        if isinstance(operator, (ast.Eq, ast.NotEq)):
            texts = [right if isinstance(right, ast.Constant) else left]
            positive = isinstance(operator, ast.Eq)
        elif isinstance(operator, (ast.In, ast.NotIn)):
            positive = isinstance(operator, ast.In)
            if isinstance(left, ast.Constant):
                texts = [left]  # "mysql" in url
            elif isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                texts = list(right.elts)
    names = [t.value.lower() for t in texts if isinstance(t, ast.Constant) and isinstance(t.value, str)]
    known = tuple(fw.POSTGRESQL_DIALECTS | fw.OTHER_DIALECTS)
    if not names or len(names) != len(texts) or not all(name.startswith(known) for name in names):
        return None
    return positive, names


# -- what an operation does ------------------------------------------------------------


def added_column(op: Operation) -> ast.expr | None:
    """The name argument of the `Column(...)` an `add_column()` adds."""
    column = op.alembic_argument(*fw.COLUMN_ARGUMENT[fw.ADD_COLUMN])
    if not isinstance(column, ast.Call) or call_name(column) != fw.COLUMN_CLASS:
        return None
    return column.args[0] if column.args else keyword_value(column, "name")


def alters_table(op: Operation) -> bool:
    """DDL on an existing table: every schema operation but creating a table and running code or SQL."""
    if op.framework == DJANGO:
        return op.name not in fw.OPERATIONS_WITHOUT_DDL
    return op.name in fw.SCHEMA_DIRECTIVES and op.name not in (fw.EXECUTE, fw.BULK_INSERT, fw.CREATE_TABLE)


def created_tables(migration: MigrationFile) -> set[str]:
    """Tables created by this migration (Django: their default and `db_table` names), lowercased."""
    tables = set()
    for op in migration.operations:
        if op.name == fw.CREATE_TABLE and op.table:
            tables.add(op.table.lower())
        elif op.name == fw.CREATE_MODEL and op.table:
            tables.add(f"{migration.app_label}_{op.table}")
            table = string_value(_option(op.argument("options"), {}, fw.DB_TABLE_OPTION))
            if table:
                tables.add(table.lower())
    return tables


def table_origin(op: Operation, filename: str, column: bool = False) -> str | None:
    """The file name of the migration, in this one's folder, that created the table `op` works on (with `column`,
    that added the column it drops or renames, when a later one did); None when the history does not say (a renamed
    table, another app's, a squashed or unmanaged one). The results cache keeps the finding while that file is
    unchanged."""
    origin = _table_origin(op, filename, column)
    if origin is not None:
        try:
            status = os.stat(Path(filename).parent / origin)
        except OSError:
            return None
        CONSULTED.add((str(Path(filename).parent / origin), status.st_size, status.st_mtime_ns))
    return origin


def _table_origin(op: Operation, filename: str, column: bool) -> str | None:
    if op.framework == DJANGO:
        previous = op.previous
        if previous is None:
            return None
        name = string_value(op.argument(_FIELD_PARAMETER[op.name])) if column and op.name in _FIELD_PARAMETER else None
        return previous.added_in.get(name or "", previous.created_in)
    if not op.table:
        return None
    path = Path(filename).resolve()
    history = _alembic_history(path.parent)
    key = op.table.lower()
    if column and op.name in (fw.DROP_COLUMN, fw.ALTER_COLUMN):
        name = string_value(op.alembic_argument(*fw.COLUMN_ARGUMENT[op.name]), op.constants)
        adders = history.made.get(f"{key}.{name}", ()) if name else ()
        if adders:
            return history.nearest(path.name, adders)
    return history.nearest(path.name, history.made.get(key, ()))


# The parameter naming the field that a Django operation drops or renames.
_FIELD_PARAMETER = {fw.REMOVE_FIELD: "name", fw.RENAME_FIELD: "old_name"}
_REVISION_LINE = re.compile(rb"^(down_revision|revision)\b[^=\n]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(rb"[\"']([^\"'\s]+)[\"']")


@dataclass
class _AlembicHistory:
    """One `versions` folder: which revision files create each table (`likes`) or add each column (`likes.note`),
    and each file's parent files (by `down_revision`)."""

    made: dict[str, tuple[str, ...]]
    parents: dict[str, tuple[str, ...]]

    def nearest(self, filename: str, candidates: tuple[str, ...]) -> str | None:
        """The candidate closest before `filename` in the revision chain (a table created, dropped and created
        again: the last creation); None when none is before it."""
        wanted, pending, seen = set(candidates), deque(self.parents.get(filename, ())), {filename}
        while pending:
            current = pending.popleft()
            if current in wanted:
                return current
            if current not in seen:
                seen.add(current)
                pending.extend(self.parents.get(current, ()))
        return None


@lru_cache(maxsize=8)
def _alembic_history(folder: Path) -> _AlembicHistory:
    """The folder's revisions, read once per process (only those that create tables or add columns are parsed)."""
    made: dict[str, list[str]] = {}
    revisions: dict[str, tuple[str, tuple[str, ...]]] = {}  # file -> (revision, down revisions)
    try:
        files = sorted(folder.glob("*.py"))
    except OSError:
        files = []
    for file in files:
        try:
            data = file.read_bytes()
            has_words = fw.CREATE_TABLE.encode() in data or fw.ADD_COLUMN.encode() in data
            tree = ast.parse(read_source(data)) if has_words else None
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        ids = {m.group(1): _QUOTED.findall(m.group(2)) for m in _REVISION_LINE.finditer(data)}
        if ids.get(b"revision"):
            revisions[file.name] = (
                ids[b"revision"][0].decode(),
                tuple(d.decode() for d in ids.get(b"down_revision", [])),
            )
        functions = tree.body if tree is not None else []
        upgrade = next((f for f in functions if isinstance(f, ast.FunctionDef) and f.name == fw.UPGRADE), None)
        for key in _created_by(upgrade) if upgrade is not None else ():
            made.setdefault(key, []).append(file.name)
    by_revision = {revision: name for name, (revision, _) in revisions.items()}
    parents = {name: tuple(by_revision[d] for d in down if d in by_revision) for name, (_, down) in revisions.items()}
    return _AlembicHistory({key: tuple(names) for key, names in made.items()}, parents)


def _created_by(upgrade: ast.FunctionDef) -> Iterator[str]:
    """The tables (`likes`) and the added columns (`likes.note`) an upgrade() always creates, lowercased: not under
    an `if` or a `try` (`if not inspector.has_table("likes")` adopts a table that may be full)."""
    batches = _batch_tables(upgrade, {"op"})
    for node in _unconditional_calls(upgrade.body):
        name = call_name(node)
        if name == fw.CREATE_TABLE:
            table = string_value(_argument(node, 0, fw.TABLE_ARGUMENT[fw.CREATE_TABLE][1]))
            if table:
                yield table.lower()
        elif name == fw.ADD_COLUMN:
            batch = id(node) in batches
            table = string_value(batches[id(node)] if batch else _argument(node, 0, "table_name"))
            added = _argument(node, 0 if batch else 1, "column")
            column = string_value(added.args[0]) if isinstance(added, ast.Call) and added.args else None
            if table and column:
                yield f"{table.lower()}.{column}"


def _unconditional_calls(body: list[ast.stmt]) -> Iterator[ast.Call]:
    """The calls of statements that always run: top level, and inside `with` blocks (batch_alter_table)."""
    for statement in body:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            yield from _unconditional_calls(statement.body)
        elif isinstance(statement, (ast.Expr, ast.Assign)):
            yield from (node for node in ast.walk(statement) if isinstance(node, ast.Call))


_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_DATA_STATEMENT = re.compile(
    r"^\s*(?P<verb>UPDATE|DELETE\s+FROM|INSERT\s+INTO)\s+(?:ONLY\s+)?(?P<table>[\w.\"`]+)", re.IGNORECASE
)


def data_change(op: Operation, created: set[str]) -> str | None:
    """The first statement of a RunSQL / `op.execute()` that changes rows of a table this migration did not create."""
    if op.name == fw.RUN_SQL:
        texts = sql_statements(op.argument("sql"))
    elif op.framework == ALEMBIC and op.name == fw.EXECUTE and not op.batch:
        argument = op.alembic_argument(0, "sqltext")
        if isinstance(argument, ast.Call) and call_name(argument) == fw.TEXT_CONSTRUCT and argument.args:
            argument = argument.args[0]
        texts = [argument] if argument is not None else []
    else:
        return None
    for text in texts:
        sql = string_value(text)
        for statement in _SQL_COMMENT.sub(" ", sql or "").split(";"):
            match = _DATA_STATEMENT.match(statement)
            if match is not None and match["table"].strip('"`').lower() not in created:
                return _clipped(" ".join(statement.split()))
    return None


def changed_table(statement: str) -> str | None:
    """The table an UPDATE / DELETE FROM / INSERT INTO statement changes."""
    match = _DATA_STATEMENT.match(statement)
    return match["table"] if match is not None else None


def _clipped(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def drops_check_constraint(op: Operation) -> bool:
    """The last step of the safe NOT NULL sequence drops the check constraint that proved it."""
    if op.name == fw.REMOVE_CONSTRAINT:
        return True
    return op.name == fw.DROP_CONSTRAINT and string_value(keyword_value(op.call, fw.CONSTRAINT_TYPE_KEYWORD)) == (
        fw.CHECK_CONSTRAINT_TYPE
    )


def row_write(call: ast.Call, framework: str, scope: Scope, blocks: dict[int, Blocks]) -> str | None:
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
        if not (receiver in fw.CONNECTION_NAMES or bound):
            return None
        if id(scope.node) not in blocks:
            blocks[id(scope.node)] = Blocks(scope.node)
        if call.args and _reads(call.args[0], scope, blocks[id(scope.node)]):
            return None  # a read per row is a query, not a write (the query-in-loop rules leave migrations alone)
        return method
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


# Methods that turn a statement into a write (`table.update()`, `insert(t).from_select(...)`).
_WRITE_METHODS = frozenset({"update", "delete", "insert", "values", "from_select", "returning"})


def _reads(statement: ast.expr | None, scope: Scope, blocks: Blocks, depth: int = 0) -> bool:
    """The statement only reads: SELECT text (`text(...)`, its `.bindparams()`), or a `select()` construct.

    A name is followed to the one assignment that reaches it; when that is unclear, it is not a read.
    """
    if statement is None or depth > 8:
        return False
    if isinstance(statement, ast.Constant) and isinstance(statement.value, str):
        return _is_read_sql(statement.value)
    if isinstance(statement, ast.Name):
        return _reads(blocks.reaching_value(statement, scope), scope, blocks, depth + 1)
    if not isinstance(statement, ast.Call):
        return False
    name = call_name(statement)
    if name == fw.SELECT_CONSTRUCT:
        return True
    if name == fw.TEXT_CONSTRUCT:
        return bool(statement.args) and _reads(statement.args[0], scope, blocks, depth + 1)
    if isinstance(statement.func, ast.Attribute) and name not in _WRITE_METHODS:
        return _reads(statement.func.value, scope, blocks, depth + 1)  # select(...).where(...), stmt.bindparams(...)
    return False


_DATA_CHANGE_WORD = re.compile(rf"\b(?:{'|'.join(sorted(fw.DATA_CHANGE_KEYWORDS))})\b", re.IGNORECASE)


def _is_read_sql(sql: str) -> bool:
    """Every statement of the text is a SELECT (or SHOW, EXPLAIN, a WITH query without a data change)."""
    statements = [s.replace("(", " ").split() for s in _SQL_COMMENT.sub(" ", sql).split(";")]
    statements = [words for words in statements if words]
    return bool(statements) and all(
        words[0].upper() in fw.READ_KEYWORDS
        or (words[0].upper() == fw.WITH_KEYWORD and not _DATA_CHANGE_WORD.search(" ".join(words)))
        for words in statements
    )


class Blocks:
    """Where each statement of a function sits, to find the one assignment that reaches a name."""

    def __init__(self, function: ast.AST) -> None:
        # node -> (parent, the parent's statement list holding it (or None), its position there)
        self.parent: dict[int, tuple[ast.AST, str | None, int]] = {}
        for node in ast.walk(function):
            for name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    for position, child in enumerate(value):
                        if isinstance(child, ast.AST):
                            self.parent[id(child)] = (node, name, position)
                elif isinstance(value, ast.AST):
                    self.parent[id(value)] = (node, None, 0)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while id(node) in self.parent:
            node = self.parent[id(node)][0]
            yield node

    def reaching_value(self, name: ast.Name, scope: Scope) -> ast.expr | None:
        """The value of the last assignment before `name` when it runs on every path to it, else None."""
        if name.id in scope.params or name.id in scope.loop_bindings:
            return None
        values = scope.assignments.get(name.id, [])
        use = (name.lineno, name.col_offset)
        earlier = [v for v in values if (v.end_lineno or 0, v.end_col_offset or 0) <= use]
        if not earlier:
            return None
        value = max(earlier, key=lambda v: (v.lineno, v.col_offset))
        statement = next((a for a in self.ancestors(value) if isinstance(a, ast.stmt)), None)
        if statement is None or not self._dominates(statement, name):
            return None
        for loop in self.ancestors(name):
            if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) and loop not in self.ancestors(statement):
                if any(loop in self.ancestors(other) for other in values if other is not value):
                    return None  # rebound later in a loop around the use: another value on the next pass
        return value

    def _dominates(self, statement: ast.stmt, use: ast.AST) -> bool:
        """`statement` runs before `use` on every path: `use` sits in a later statement of the same block."""
        parent, block, position = self.parent[id(statement)]
        node = use
        while id(node) in self.parent:
            above, above_block, above_position = self.parent[id(node)]
            if above is parent and above_block == block and block is not None:
                return above_position > position
            node = above
        return False


def sql_statements(value: ast.expr | None) -> list[ast.expr]:
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


def _attach_history(
    index: ModuleIndex, node: ast.ClassDef, names: _Names, operations: list[Operation], attach: bool
) -> None:
    """With `attach`, give each operation on an existing table that table's state before it; either way, keep the
    state after the migration for the ones that depend on it (when files are checked in order, none is parsed twice;
    out of order, or in another worker, a dependency is read from disk)."""
    path = Path(index.filename).resolve()
    if not attach and path in _STATES:
        return
    state = _state_of_dependencies(path, _class_attribute(node, fw.DEPENDENCIES_ATTRIBUTE), names)
    by_call = {id(op.call): op for op in operations} if attach else {}
    for call in _elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE), names):
        if not isinstance(call, ast.Call):
            continue
        nested = [call]
        if call_name(call) == fw.SEPARATE_DATABASE_AND_STATE:
            database = _argument(call, 0, fw.DATABASE_OPERATIONS)
            nested = [c for c in _elements(database, names) if isinstance(c, ast.Call)]
        for inner in nested:
            op = by_call.get(id(inner))
            if op is not None and op.table in state:
                op.previous = state[op.table].copy()
        _apply(state, call, names, origin=path.name)
    if len(_STATES) < _MAX_HISTORY:
        _STATES.setdefault(path, state)


def _state_of_dependencies(path: Path, dependencies: ast.expr | None, names: _Names) -> _State:
    """The app's models after the migrations this one depends on, read from the same folder."""
    state: _State = {}
    for file in _own_dependencies(path, dependencies, names):
        for model, known in (_state_after(file) or {}).items():
            state[model] = known.copy()
    return state


def _own_dependencies(path: Path, dependencies: ast.expr | None, names: _Names) -> list[Path]:
    """The dependency files in this app's migrations folder (named by the app's label: its package's name, or the
    `label` its AppConfig declares instead)."""
    app_label = _declared_label(Path(os.path.abspath(path)).parent.parent) or _app_label(path)
    files = []
    for item in _elements(dependencies, names):
        if isinstance(item, ast.Tuple) and len(item.elts) == 2:
            label, name = (string_value(e) for e in item.elts)
            if label == app_label and name:
                file = path.parent / f"{name}.py"
                if file.is_file():
                    files.append(file)
    return files


# Per process (flake8 and `orm-lint check` are short-lived): each file is read once.
_STATES: dict[Path, _State | None] = {}
# Whether Django's soft-apply test (MigrationExecutor.detect_soft_applied) takes each migration checked so far
# for an initial one.
_DETECTED_INITIAL: dict[Path, bool] = {}
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
        operations, dependencies, names, _ = parsed
        own = [d.resolve() for d in _own_dependencies(current, dependencies, names)]
        missing = [d for d in own if d not in _STATES]
        if missing and current not in visiting:
            visiting.add(current)
            pending.extend(missing)
            continue
        state: _State = {}
        for dependency in own:
            for model, known in (_STATES.get(dependency) or {}).items():
                state[model] = known.copy()
        # A squashed migration's CreateModel made its table back when the migrations it replaces ran: no origin.
        origin = None if fw.REPLACES_ATTRIBUTE in names else current.name
        for call in operations:
            _apply(state, call, names, origin=origin)
        _STATES[current] = state
        pending.pop()
    return _STATES.get(path)


@lru_cache(maxsize=32)
def _parse_migration_file(path: Path) -> tuple[list[ast.expr], ast.expr | None, _Names, bool | None] | None:
    """The operations, dependencies, names and `initial` flag (None when not set) of a migration file."""
    try:
        tree = ast.parse(read_source(path.read_bytes()))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == fw.MIGRATION_CLASS:
            names = _names(tree, node)
            operations = _elements(_class_attribute(node, fw.OPERATIONS_ATTRIBUTE), names)
            initial = _class_attribute(node, fw.INITIAL_ATTRIBUTE)
            flag = initial.value if isinstance(initial, ast.Constant) and isinstance(initial.value, bool) else None
            return operations, _class_attribute(node, fw.DEPENDENCIES_ATTRIBUTE), names, flag
    return None


def _apply(state: _State, call: ast.expr, names: _Names, state_only: bool = False, origin: str | None = None) -> None:
    """Apply one operation's effect on the model state (what makemigrations tracks); `origin` is the migration's
    file name."""
    if not isinstance(call, ast.Call):
        return
    kind = call_name(call) or ""
    if kind in (fw.SEPARATE_DATABASE_AND_STATE, fw.RUN_SQL):
        position = 1 if kind == fw.SEPARATE_DATABASE_AND_STATE else 2
        for inner in _elements(_argument(call, position, fw.STATE_OPERATIONS), names):
            _apply(state, inner, names, state_only=True)
        return
    parameters = fw.OPERATION_PARAMETERS.get(kind)
    if parameters is None:
        return
    values = {p: _argument(call, i, p) for i, p in enumerate(parameters)}
    text = {p: string_value(v) or "" for p, v in values.items()}
    if kind == fw.CREATE_MODEL:
        created = state[text["name"].lower()] = _created_model(values["fields"], values["options"], names)
        created.table_unknown = state_only
        # state_operations, a proxy or an unmanaged model (a legacy table adopted): no table is created
        created.created_in = None if state_only or created.proxy or not created.managed else origin
    elif kind == fw.ALTER_MODEL_OPTIONS:
        model = state.get(text["name"].lower())
        if model is not None:
            # AlterModelOptions replaces `managed`: an absent key resets it to True.
            model.managed = not is_false(_option(values["options"], names, fw.MANAGED_OPTION))
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
        added_in = state[text["model_name"].lower()].added_in
        if kind in (fw.ADD_FIELD, fw.ALTER_FIELD) and isinstance(field_call, ast.Call):
            fields[text["name"]] = field_call
            if kind == fw.ADD_FIELD and origin is not None and not state_only:
                added_in[text["name"]] = origin
            only = state[text["model_name"].lower()].state_only
            if state_only:
                only.add(text["name"])
            else:
                only.discard(text["name"])
        elif kind == fw.REMOVE_FIELD:
            fields.pop(text["name"], None)
            added_in.pop(text["name"], None)
        elif kind == fw.RENAME_FIELD and text["old_name"] in fields:
            fields[text["new_name"]] = fields.pop(text["old_name"])
            if text["old_name"] in added_in:
                added_in[text["new_name"]] = added_in.pop(text["old_name"])


def _created_model(fields: ast.expr | None, options: ast.expr | None, names: _Names) -> _ModelState:
    model = _ModelState()
    for item in _elements(fields, names):
        if isinstance(item, ast.Tuple) and len(item.elts) == 2 and isinstance(item.elts[1], ast.Call):
            model.fields[string_value(item.elts[0]) or ""] = item.elts[1]
    model.db_table = string_value(_option(options, names, fw.DB_TABLE_OPTION))
    model.proxy = is_true(_option(options, names, fw.PROXY_OPTION))
    model.managed = not is_false(_option(options, names, fw.MANAGED_OPTION))
    return model


def _option(options: ast.expr | None, names: _Names, key: str) -> ast.expr | None:
    """A key of a CreateModel/AlterModelOptions `options={...}` dict."""
    if isinstance(options, ast.Name):
        options = names.get(options.id)
    if isinstance(options, ast.Dict):
        for option, value in zip(options.keys, options.values):
            if option is not None and string_value(option) == key:
                return value
    return None


# -- small syntax helpers --------------------------------------------------------------


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return call.args[position]
    return None


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _elements(value: ast.expr | None, names: _Names | None = None, depth: int = 0) -> list[ast.expr]:
    """The items of a list/tuple literal, `a + b`, `[*a, x]`, or a name bound to one of those."""
    if depth > 8:
        return []
    if isinstance(value, ast.Name) and names and value.id in names:
        return _elements(names[value.id], names, depth + 1)
    if isinstance(value, (ast.List, ast.Tuple)):
        items: list[ast.expr] = []
        for item in value.elts:
            if isinstance(item, ast.Starred):
                items.extend(_elements(item.value, names, depth + 1))
            else:
                items.append(item)
        return items
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _elements(value.left, names, depth + 1) + _elements(value.right, names, depth + 1)
    return []


def string_value(value: ast.expr | None, constants: dict[str, str] | None = None) -> str | None:
    """A string literal, or a module-level string constant's value when `constants` are given."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if constants and isinstance(value, ast.Name):
        return constants.get(value.id)
    return None


def display_text(value: ast.expr | None, constants: dict[str, str] | None = None) -> str:
    """A name for messages: the string (a constant's value), or the source of the expression that computes it."""
    if value is None:
        return "?"
    return string_value(value, constants) or source(value)


def is_true(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def is_false(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def name_text(value: ast.expr | None, constants: dict[str, str] | None = None) -> str:
    """An index or constraint name: `"ix_a"`, `op.f("ix_a")` or a module constant's value."""
    if isinstance(value, ast.Call) and value.args:
        value = value.args[0]
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return "(unnamed)"
    return display_text(value, constants)


def keyword_text(value: ast.expr | None, keyword: str, constants: dict[str, str] | None = None) -> str:
    if not isinstance(value, ast.Call):
        return "(unnamed)"
    return name_text(keyword_value(value, keyword), constants)


# -- Django fields -----------------------------------------------------------------------


def django_field(call: ast.Call, imports: dict[str, str] | None = None) -> str | None:
    """The class name of a Django field (`models.CharField(...)`, `django.contrib...ArrayField(...)`).

    None for any other class (`taggit.managers.TaggableManager`, `utilities.fields.ColorField`):
    whether it has a column, and of which type, is unknown.
    """
    func = call.func
    if isinstance(func, ast.Name):
        name, root = func.id, func.id
        full = (imports or {}).get(root)
        if full is not None and not full.startswith("django."):
            return None
    elif isinstance(func, ast.Attribute):
        name, owner = func.attr, func.value
        while isinstance(owner, ast.Attribute):
            owner = owner.value
        if not isinstance(owner, ast.Name):
            return None
        full = (imports or {}).get(owner.id, owner.id)
        if owner.id not in fw.DJANGO_FIELD_MODULES and not full.startswith("django."):
            return None
        if owner.id == "models" and imports and not full.startswith(("django.", "models")):
            return None  # an app's own `models` module
    else:
        return None
    return name if name in fw.POSTGRESQL_COLUMN_TYPES or name in fw.FIELDS_WITHOUT_COLUMN else None


def is_nullable(call: ast.Call) -> bool:
    return is_true(keyword_value(call, fw.NULL_KEYWORD)) or call_name(call) == fw.NULL_BOOLEAN_FIELD


def is_unique(call: ast.Call) -> bool:
    """Field.unique: unique=True, a primary key, or a OneToOneField."""
    return (
        is_true(keyword_value(call, fw.UNIQUE_KEYWORD))
        or is_true(keyword_value(call, fw.PRIMARY_KEY_KEYWORD))
        or call_name(call) == fw.ONE_TO_ONE_FIELD
    )


def is_indexed(call: ast.Call) -> bool:
    """Field.db_index: as given, else True for ForeignKey, OneToOneField and SlugField."""
    value = keyword_value(call, fw.DB_INDEX_KEYWORD)
    if value is not None:
        return is_true(value)
    return call_name(call) in fw.INDEXED_BY_DEFAULT


def field_text(call: ast.Call) -> str:
    kind = call_name(call) or "?"
    arguments = [f"{k.arg}={source(k.value)}" for k in call.keywords if k.arg in fw.TYPE_KEYWORDS]
    return f"{kind}({', '.join(arguments)})"


# A type argument computed by an expression (`max_length=settings.CODE_LENGTH`): its value is unknown.
_EXPRESSION = "<expression>"


def _number(value: ast.expr | None) -> int | str | None:
    if isinstance(value, ast.Constant) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None if value is None else _EXPRESSION


def _computed(column_type: tuple[object, ...]) -> bool:
    return any(v == _EXPRESSION or (isinstance(v, tuple) and _computed(v)) for v in column_type)


def column_type(call: ast.Call) -> tuple[object, ...] | None:
    """The PostgreSQL column a Django field has; None for a field class that is not Django's own."""
    kind = django_field(call) or ""
    base = fw.POSTGRESQL_COLUMN_TYPES.get(kind)
    if base is None:
        return None
    primary_key = is_true(keyword_value(call, fw.PRIMARY_KEY_KEYWORD))
    collation = keyword_value(call, fw.DB_COLLATION_KEYWORD)
    collation_text = None if collation is None else source(collation)
    if kind in fw.VARCHAR_FIELDS:
        length = _number(keyword_value(call, fw.MAX_LENGTH_KEYWORD))
        return (base, fw.VARCHAR_FIELDS[kind] if length is None else length, collation_text, primary_key)
    if kind == fw.DECIMAL_FIELD:
        digits = _number(_argument(call, 2, fw.MAX_DIGITS_KEYWORD))
        places = _number(_argument(call, 3, fw.DECIMAL_PLACES_KEYWORD))
        return (base, digits, places, primary_key)
    if kind in fw.FOREIGN_KEY_FIELDS:
        target = _argument(call, 0, fw.TO_KEYWORD)
        name = string_value(target)
        to_field = keyword_value(call, "to_field")
        return (base, name.lower() if name else None, None if to_field is None else source(to_field), primary_key)
    if kind == fw.ARRAY_FIELD:
        inner = _argument(call, 0, fw.BASE_FIELD_KEYWORD)
        inner_type = column_type(inner) if isinstance(inner, ast.Call) else None
        return None if inner_type is None else (base, inner_type, primary_key)
    return (base, collation_text, primary_key)


def changes_column_type(old: ast.Call, new: ast.Call, backend: str | None) -> bool:
    """Whether an AlterField from `old` to `new` changes the column's type (ALTER COLUMN ... TYPE).

    Fields are compared by the column they have, not their class: CharField and SlugField of the
    same length share varchar(n); `to="app.Model"` and `to="app.model"` are the same reference.
    A field class that is not Django's own is only compared with itself, by its type arguments.
    """
    postgresql = backend in POSTGRESQL_OR_UNKNOWN
    old_kind, new_kind = call_name(old) or "", call_name(new) or ""
    old_type, new_type = column_type(old), column_type(new)
    if old_type is None or new_type is None:
        if old_kind != new_kind:
            return False  # an unknown class on one side: its column type is unknown
        old_arguments, new_arguments = _type_arguments(old), _type_arguments(new)
        return old_arguments != new_arguments and not (postgresql and _only_longer(old, new))
    if _computed(old_type) or _computed(new_type):
        return False  # a length or precision computed by an expression: unknown
    if old_kind != new_kind and not postgresql:
        return True  # MySQL maps classes to different types (UNSIGNED ...); SQLite copies the table
    if (old_kind in fw.FOREIGN_KEY_FIELDS) != (new_kind in fw.FOREIGN_KEY_FIELDS) and {old_type[0], new_type[0]} & {
        "integer",
        "bigint",
    }:
        return (
            False  # an integer becoming a foreign key, or back: the target's key is an integer of a size unknown here
        )
    if old_kind in fw.FOREIGN_KEY_FIELDS and new_kind in fw.FOREIGN_KEY_FIELDS and None in (old_type[1], new_type[1]):
        new_type = (new_type[0], old_type[1], *new_type[2:])  # a target given as an expression: unknown
    if old_type == new_type:
        return new_kind in fw.CHECKED_FIELDS and old_kind not in fw.CHECKED_FIELDS  # adds CHECK (col >= 0)
    return not (postgresql and _widens_column(old_type, new_type))


def _widens_column(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    """PostgreSQL changes only the catalogue: a longer varchar, varchar to text, more digits at the same scale."""
    if old[0] == "varchar" and new[0] == "varchar" and old[2:] == new[2:]:
        return isinstance(old[1], int) and (new[1] is None or (isinstance(new[1], int) and new[1] >= old[1]))
    if old[0] == "varchar" and new[0] == "text":
        return old[2:] == new[1:]
    if old[0] == "numeric" and new[0] == "numeric" and old[2:] == new[2:]:
        return isinstance(old[1], int) and isinstance(new[1], int) and new[1] >= old[1]
    return False


def _type_arguments(call: ast.Call) -> list[str]:
    """The arguments that may decide the column type of a field class that is not Django's own."""
    arguments = [ast.dump(a) for a in call.args]
    for k in call.keywords:
        if k.arg in fw.TYPE_KEYWORDS:
            value = string_value(k.value)
            arguments.append(f"{k.arg}={value.lower() if k.arg == fw.TO_KEYWORD and value else ast.dump(k.value)}")
    return sorted(arguments)


def _only_longer(old: ast.Call, new: ast.Call) -> bool:
    """Only max_length changed, and grew (or is computed)."""
    old_length = _number(keyword_value(old, fw.MAX_LENGTH_KEYWORD))
    new_length = _number(keyword_value(new, fw.MAX_LENGTH_KEYWORD))
    rest_old = [a for a in _type_arguments(old) if not a.startswith(fw.MAX_LENGTH_KEYWORD)]
    rest_new = [a for a in _type_arguments(new) if not a.startswith(fw.MAX_LENGTH_KEYWORD)]
    if rest_old != rest_new:
        return False
    if _EXPRESSION in (old_length, new_length):
        return True  # a computed length: unknown, so not reported
    if not isinstance(old_length, int):
        return False
    return new_length is None or (isinstance(new_length, int) and new_length >= old_length)


def column_name(call: ast.Call, name: str) -> str:
    column = string_value(keyword_value(call, fw.DB_COLUMN_KEYWORD))
    if column:
        return column
    kind = call_name(call) or ""
    # `TreeForeignKey`, `LabelByNameForeignKey`: a project's or a package's subclass keeps the `_id` column.
    return f"{name}_id" if kind.endswith(fw.FOREIGN_KEY_SUFFIXES) else name


# -- Alembic types -----------------------------------------------------------------------


def widens_string(old: ast.expr, new: ast.expr) -> bool:
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
    value = call.args[0] if call.args else keyword_value(call, fw.LENGTH_KEYWORD)
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return value.value
    return None


def widens_numeric(old: ast.expr, new: ast.expr) -> bool:
    """`Numeric(10, 2)` to `Numeric(12, 2)` (or to an unconstrained `Numeric()`): no rewrite on PostgreSQL."""
    if not (isinstance(old, ast.Call) and isinstance(new, ast.Call)):
        return False
    if call_name(old) not in fw.NUMERIC_TYPES or call_name(new) not in fw.NUMERIC_TYPES:
        return False
    old_precision, old_scale = _precision_and_scale(old)
    new_precision, new_scale = _precision_and_scale(new)
    if new_precision is None and new_scale is None:
        return True  # numeric without a limit accepts every value
    return (
        isinstance(old_precision, int)
        and isinstance(new_precision, int)
        and new_precision >= old_precision
        and (old_scale or 0) == (new_scale or 0)
        and not isinstance(old_scale, str)
        and not isinstance(new_scale, str)
    )


def _precision_and_scale(call: ast.Call) -> tuple[int | str | None, int | str | None]:
    """`Numeric(precision, scale)`, positional or keyword."""
    return _number(_argument(call, 0, fw.PRECISION_KEYWORD)), _number(_argument(call, 1, fw.SCALE_KEYWORD))
