"""Data integrity read from the models: lookups that assume a unique column, money in floats, writes to every row."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ...catalogue.correctness import UNFILTERED_DELETE_OR_UPDATE
from ...catalogue.schema import MONEY_IN_FLOAT_COLUMN, NON_UNIQUE_LOOKUP
from ...frameworks import sqlalchemy
from ...project.columns import known_columns
from ...project.table_size import name_words
from ..lookups import DJANGO_SINGLE_LOOKUPS, django_conditions, django_field, django_shape_lookup
from ..queries import call_name, describe_query, looks_like_model, unchain
from ..registry import Report, check
from ..render import short_call, source
from ..scope import ModuleIndex, Scope

_SQLALCHEMY_SINGLE_RESULTS = frozenset({"one", "one_or_none", "scalar_one", "scalar_one_or_none", "one_or_404"})
_SQLALCHEMY_NEUTRAL_STEPS = frozenset({"options", "execution_options", "order_by", "scalars", "unique"})
_SQLALCHEMY_CONDITIONS = frozenset({"where", "filter", "filter_by"})
_MULTIPLE_ROWS_ERRORS = frozenset({"MultipleObjectsReturned", "MultipleResultsFound"})


@check(NON_UNIQUE_LOOKUP, runs_on_tests=False)
def non_unique_lookup(index: ModuleIndex) -> Iterator[Report]:
    """non-unique-lookup: `get(email=...)` / `.one()` on columns no unique constraint covers."""
    for scope in index.scopes:
        for site in scope.calls:
            call = site.node
            found = _django_lookup(call, scope) or _sqlalchemy_lookup(call, scope)
            if found is None:
                continue
            model, names = found
            known = known_columns(index.project, model)
            if known is None:
                continue
            if known.framework == "django":  # `author_id=` is the `author` foreign key's column
                names = {django_field(name, known.columns) for name in names}
            if not names or not names <= known.columns or names & known.uncertain:
                continue
            if known.covers(names) or _handles(scope, call, _MULTIPLE_ROWS_ERRORS):
                continue
            columns = ", ".join(f"{model}.{name}" for name in sorted(names))
            if len(names) > 1:
                columns = f"({columns})"
            yield Report(
                NON_UNIQUE_LOOKUP,
                call,
                {"lookup": short_call(call), "columns": columns, "fix": _unique_fix(known.framework, model, names)},
                model=model,
                attribute=", ".join(sorted(names)),
                operation=call_name(call),
            )


def _unique_fix(framework: str, model: str, names: set[str]) -> str:
    if framework == "django":
        constraint = (
            f"unique=True to {model}.{next(iter(names))}"
            if len(names) == 1
            else f"UniqueConstraint(fields={sorted(names)!r}) to Meta.constraints"
        )
        return f"add {constraint} with a migration, or use filter(...).first()"
    constraint = (
        f"unique=True to {model}.{next(iter(names))}" if len(names) == 1 else "a UniqueConstraint to __table_args__"
    )
    return f"add {constraint} with a migration, or use first()"


def _django_lookup(call: ast.Call, scope: Scope) -> tuple[str, set[str]] | None:
    """(model, columns compared by equality) of `Model.objects.filter(a=1).get(b=2)` / `get_object_or_404(M, b=2)`."""
    name = call_name(call)
    if name == "get_object_or_404" and isinstance(call.func, ast.Name) and call.args:
        target = call.args[0]
        model = looks_like_model(target) if isinstance(target, ast.Name) else None
        if model is not None and scope.values_of(model) is None:
            names = django_conditions([call.keywords], call.args[1:])
            return (model, names) if names is not None else None
        shape = describe_query(target, scope)
        if shape is None or shape.framework != "django" or shape.entity is None:
            return None
        return django_shape_lookup(shape, [call.keywords], call.args[1:])
    if name not in DJANGO_SINGLE_LOOKUPS or not isinstance(call.func, ast.Attribute):
        return None
    shape = describe_query(call, scope)
    if shape is None or shape.framework != "django" or shape.entity is None or shape.steps[-1].call is not call:
        return None
    return django_shape_lookup(shape, [], [])


def _sqlalchemy_lookup(call: ast.Call, scope: Scope) -> tuple[str, set[str]] | None:
    """(model, columns compared by equality) of `session.scalars(select(M).where(M.a == x)).one()`."""
    name = call_name(call)
    if name not in _SQLALCHEMY_SINGLE_RESULTS or call.args and name != "one_or_404":
        return None
    if name == "one_or_404" and isinstance(call.func, ast.Attribute) and _is_db(call.func.value):
        statement: ast.expr | None = call.args[0] if call.args else None  # db.one_or_404(select(M)...)
    elif isinstance(call.func, ast.Attribute):
        statement = call.func.value
    else:
        return None
    if statement is None:
        return None
    if isinstance(statement, ast.Call) and call_name(statement) == "execute" and name.startswith("scalar_"):
        statement = statement.args[0] if statement.args else None  # the first column of the rows is the entity
        if statement is None:
            return None
    shape = describe_query(statement, scope)
    if shape is None or shape.framework != "sqlalchemy" or shape.entity is None:
        return None
    names: set[str] = set()
    for step in shape.steps:
        if step.name in _SQLALCHEMY_NEUTRAL_STEPS:
            continue
        if step.name not in _SQLALCHEMY_CONDITIONS or step.call is None:
            return None
        if step.name == "filter_by":
            if step.call.args or any(k.arg is None for k in step.call.keywords):
                return None
            names.update(str(k.arg) for k in step.call.keywords)
            continue
        for arg in step.call.args:
            compared = _equalities(arg, shape.entity)
            if compared is None:
                return None
            names |= compared
    return shape.entity, names


def _is_db(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "db"


def _equalities(expr: ast.expr, entity: str) -> set[str] | None:
    """`M.a == x`, `and_(M.a == x, M.b == y)`: the columns of `entity` compared; None for anything else."""
    if isinstance(expr, ast.Call) and call_name(expr) == "and_" and not expr.keywords:
        names: set[str] = set()
        for arg in expr.args:
            inner = _equalities(arg, entity)
            if inner is None:
                return None
            names |= inner
        return names
    if not (isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq)):
        return None
    left = expr.left
    if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.value.id == entity:
        return {left.attr}
    return None


def _handles(scope: Scope, node: ast.AST, errors: frozenset[str]) -> bool:
    """`node` sits in the body of a `try` whose handlers catch one of `errors` (by its last name)."""
    for statement in ast.walk(scope.node):
        if not isinstance(statement, ast.Try):
            continue
        caught = set()
        for handler in statement.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught.update("" if kind is None else _last_name(kind) for kind in kinds)
        if caught & errors and any(node is inner for stmt in statement.body for inner in ast.walk(stmt)):
            return True
    return False


def _last_name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""


# -- money in floats ---------------------------------------------------------------------------------------------
_MONEY_WORDS = frozenset(
    {
        "price", "prices", "cost", "costs", "fee", "fees", "salary", "salaries", "tax", "taxes", "balance",
        "revenue", "revenues", "payment", "payments", "refund", "refunds", "wage", "wages", "budget", "money",
        "income", "expense", "expenses", "payout", "earnings", "profit", "spend", "spent", "subtotal",
    }
)  # fmt: skip
# Money only on a model about money (`Order.total`), not alone (`Ingredient.amount`, `Stats.total`).
_WEAK_MONEY_WORDS = frozenset({"amount", "total", "discount", "paid", "due", "value"})
_MONEY_MODELS = frozenset(
    {
        "order", "invoice", "payment", "transaction", "purchase", "sale", "bill", "refund", "wallet", "cart",
        "checkout", "donation", "expense", "budget", "ledger", "account", "price", "subscription", "charge",
        "payout", "fee", "salary", "receipt", "quote", "cost", "billing", "transfer", "deposit", "withdrawal",
        "voucher",
    }
)  # fmt: skip
_NOT_MONEY = frozenset(
    {
        "rate", "rates", "ratio", "percent", "percentage", "pct", "count", "num", "number", "time", "duration",
        "seconds", "minutes", "hours", "days", "weight", "score", "distance", "factor", "quantity", "qty", "points",
        "multiplier", "share", "level", "threshold", "percentile", "hits", "views", "size", "length",
    }
)  # fmt: skip
_FLOAT_TYPES = frozenset({"Float", "FLOAT", "REAL", "Double", "DOUBLE", "DOUBLE_PRECISION"})


@check(MONEY_IN_FLOAT_COLUMN)
def money_in_float_column(index: ModuleIndex) -> Iterator[Report]:
    """money-in-float-column: a price or balance declared as a float column."""
    for cls in index.classes:
        model_words = name_words(cls.name)
        sqlmodel_table = any(
            k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in cls.keywords
        )
        for stmt in cls.body:
            if not isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                continue
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
            if not isinstance(target, ast.Name):
                continue
            kind = _float_column(index, stmt, sqlmodel_table)
            if kind is None:
                continue
            label = _verbose_name(stmt.value)
            words = name_words(target.id) | name_words(label)
            if words & _NOT_MONEY or not (
                words & _MONEY_WORDS or (words & _WEAK_MONEY_WORDS and model_words & _MONEY_MODELS)
            ):
                continue
            yield Report(
                MONEY_IN_FLOAT_COLUMN,
                stmt,
                {"column": f"{cls.name}.{target.id}", "fix": _MONEY_FIX[kind]},
                model=cls.name,
                attribute=target.id,
            )


_MONEY_FIX = {
    "django": "use DecimalField(max_digits=..., decimal_places=2)",
    "sqlalchemy": "use Numeric(precision, scale) with Mapped[Decimal]",
    "sqlmodel": "annotate it Decimal with Field(max_digits=..., decimal_places=2)",
}


def _float_column(index: ModuleIndex, stmt: ast.Assign | ast.AnnAssign, sqlmodel_table: bool) -> str | None:
    """The framework whose float column `stmt` declares, or None."""
    value = stmt.value
    annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
    if isinstance(value, ast.Call):
        called = call_name(value)
        if called == "FloatField":
            func = value.func
            from_django = (
                isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "models"
            ) or (isinstance(func, ast.Name) and index.imports.get("FloatField", "").startswith("django."))
            return "django" if from_django else None
        if called in {"Column", "mapped_column"}:
            types = [arg for arg in value.args if not isinstance(arg, ast.Constant)]
            if types:
                first = types[0].func if isinstance(types[0], ast.Call) else types[0]
                return "sqlalchemy" if _last_name(first) in _FLOAT_TYPES else None
            if called == "mapped_column" and annotation is not None and _annotated_float(annotation, "Mapped"):
                return "sqlalchemy"  # the type comes from Mapped[float]
            return None
        if called == "Field" and sqlmodel_table and annotation is not None and _annotated_float(annotation, None):
            keywords = {k.arg for k in value.keywords}
            return "sqlmodel" if not keywords & {"sa_column", "sa_type"} else None
        return None
    if annotation is not None:  # `price: Mapped[float]`, SQLModel `price: float = 0.0`
        if value is None and _annotated_float(annotation, "Mapped"):
            return "sqlalchemy"
        if sqlmodel_table and _annotated_float(annotation, None):
            return "sqlmodel"
    return None


def _annotated_float(annotation: ast.expr, wrapper: str | None) -> bool:
    """`Mapped[float]`, `Mapped[Optional[float]]` (wrapper "Mapped"), or `float | None` (no wrapper)."""
    node = annotation
    if wrapper is not None:
        if not (isinstance(node, ast.Subscript) and _last_name(node.value) == wrapper):
            return False
        node = node.slice
    if isinstance(node, ast.Subscript) and _last_name(node.value) == "Optional":
        node = node.slice
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        others = [side for side in (node.left, node.right) if not _is_none(side)]
        if len(others) != 1:
            return False
        node = others[0]
    return isinstance(node, ast.Name) and node.id == "float"


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _verbose_name(value: ast.expr | None) -> str:
    if not isinstance(value, ast.Call):
        return ""
    label = next((k.value for k in value.keywords if k.arg == "verbose_name"), value.args[0] if value.args else None)
    return label.value if isinstance(label, ast.Constant) and isinstance(label.value, str) else ""


# -- writes to every row -----------------------------------------------------------------------------------------
# A function or module named after a whole-table write means it (`clear_cache`, `reset_demo.py`).
_WHOLE_TABLE_WORDS = frozenset(
    {
        "clear", "reset", "purge", "truncate", "wipe", "flush", "empty", "drop", "clean", "cleanup", "teardown",
        "rebuild", "recreate", "refresh", "reload", "seed", "populate", "init", "initialize", "setup", "sync",
        "import", "load", "all", "demo", "fixture", "fixtures", "fake", "sample", "bootstrap", "destroy", "build",
    }
)  # fmt: skip
_DJANGO_UNFILTERED_STEPS = frozenset(
    {"all", "order_by", "select_related", "prefetch_related", "only", "defer", "using", "select_for_update"}
)
_STATEMENT_UNFILTERED_STEPS = frozenset({"values", "returning", "execution_options", "ordered_values"})
_WRITE_VERBS = {"delete": "deletes", "update": "updates"}
_REWRITES = frozenset({"create", "bulk_create", "update", "get_or_create", "update_or_create", "save"})
_COMMANDS = "/management/commands/"
_RUNNERS = frozenset({"execute", "exec"})


@check(UNFILTERED_DELETE_OR_UPDATE, runs_on_tests=False)
def unfiltered_delete_or_update(index: ModuleIndex) -> Iterator[Report]:
    """unfiltered-delete-or-update: `Model.objects.all().delete()`, `session.execute(update(M))` without where."""
    path = index.filename.replace("\\", "/")
    if name_words(path.rsplit("/", 1)[-1].removesuffix(".py")) & _WHOLE_TABLE_WORDS or _COMMANDS in f"/{path}":
        return  # a module named for the intent, or a management command an operator runs on purpose
    for scope in index.scopes:
        if _names_whole_table_intent(scope):
            continue
        for site in scope.calls:
            call = site.node
            name = call_name(call)
            if name not in _WRITE_VERBS:
                continue
            model = _unfiltered_orm_write(call, scope) or _unfiltered_statement(call, scope, index)
            if model is None or _writes_again(scope, call, model):
                continue
            fix = (
                "filter it to the rows meant, or name the function after the whole-table intent "
                "(clear_..., reset_...) or add # noqa: ORM505"
            )
            expr = source(call) if isinstance(call.func, ast.Name) else short_call(call)  # `delete(Order)`
            yield Report(
                UNFILTERED_DELETE_OR_UPDATE,
                call,
                {"expr": expr, "verb": _WRITE_VERBS[str(name)], "model": model, "fix": fix},
                model=model,
                operation=str(name),
            )


def _writes_again(scope: Scope, write: ast.Call, model: str) -> bool:
    """The function writes the model's rows again: a rebuild (delete all, create) or a reset (all off, one on)."""
    for site in scope.calls:
        call = site.node
        if call is write:
            continue
        if isinstance(call.func, ast.Name) and call.func.id == model:
            return True  # `Ranking(...)` built for a bulk_create
        if call_name(call) in _REWRITES:
            shape = describe_query(call, scope)
            if shape is not None and shape.entity == model:
                return True
    return False


def _names_whole_table_intent(scope: Scope) -> bool:
    current: Scope | None = scope
    while current is not None:
        words = name_words(current.name)
        if current.owner_class is not None:
            words |= name_words(current.owner_class.name)
        if words & _WHOLE_TABLE_WORDS:
            return True
        current = current.parent
    return False


def _unfiltered_orm_write(call: ast.Call, scope: Scope) -> str | None:
    """`Model.objects.all().delete()`, `Model.objects.update(...)`, `session.query(M).delete()`."""
    if not isinstance(call.func, ast.Attribute):
        return None
    shape = describe_query(call, scope)
    if shape is None or shape.entity is None or not shape.steps or shape.steps[-1].call is not call:
        return None
    before = [step.name for step in shape.steps[:-1]]
    if shape.framework == "django":
        if not set(before) <= _DJANGO_UNFILTERED_STEPS or (call_name(call) == "delete" and "all" not in before):
            return None  # a manager has no delete(): a custom one
        return shape.entity if not call.args else None  # positional arguments: a method of the project's own
    if set(before) <= {"execution_options"} and len(call.args) <= (1 if call_name(call) == "update" else 0):
        return shape.entity  # Query.delete(synchronize_session=...), Query.update(values)
    return None


def _unfiltered_statement(call: ast.Call, scope: Scope, index: ModuleIndex) -> str | None:
    """`delete(Model)` / `update(Model).values(...)` with no `where()`, run by `session.execute()`."""
    if not (len(call.args) == 1 and not call.keywords and _is_sqlalchemy_function(call, index)):
        return None
    model = looks_like_model(call.args[0])
    if model is None:
        return None
    for value in _executed_statements(scope):
        root, steps = unchain(value)
        if isinstance(root, ast.Name):  # `stmt = delete(M)`, bound once
            values = scope.values_of(root.id) or []
            if len(values) != 1 or values[0] is not call:
                continue
            steps_names = [s.name for s in steps]
        elif root is call:
            steps_names = [s.name for s in steps]
        else:
            continue
        if set(steps_names) <= _STATEMENT_UNFILTERED_STEPS:
            return model
    return None


def _executed_statements(scope: Scope) -> Iterator[ast.expr]:
    for site in scope.calls:
        call = site.node
        if call_name(call) in _RUNNERS and isinstance(call.func, ast.Attribute) and len(call.args) >= 1:
            receiver = call.func.value
            name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
            if sqlalchemy.is_session_name(name) or name.lower() in {"conn", "connection"}:
                yield call.args[0]


def _is_sqlalchemy_function(call: ast.Call, index: ModuleIndex) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return index.imports.get(func.id, "").startswith(("sqlalchemy.", "sqlmodel."))
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return index.imports.get(func.value.id, "") in {"sqlalchemy", "sqlmodel"}
    return False
