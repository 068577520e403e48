"""One walk over a module that records what every check needs: scopes, loops, calls.

Checks never walk the whole tree themselves; they read the lists built here, and walk
a single function or loop body lazily when a candidate needs a closer look.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Union

from ..project import EMPTY, ProjectIndex

# Modules whose import marks a file as database code; other files are skipped cheaply.
ORM_MODULE_ROOTS = frozenset(
    {
        "django",
        "sqlalchemy",
        "sqlmodel",
        "flask_sqlalchemy",
        "alembic",
        "sqlite3",
        "psycopg",
        "psycopg2",
        "pymysql",
        "MySQLdb",
        "mysql",
        "aiosqlite",
        "asyncpg",
        "databases",
        "peewee",
        "rest_framework",
    }
)
# Names whose import from the project marks database code (`from app import db`).
ORM_IMPORTED_NAMES = frozenset(
    {"db", "session", "Session", "SessionLocal", "engine", "models", "sql", "database", "orm", "get_db", "get_session"}
)
# Modules of the project's own that hold its database layer (`from app.database import ...`, `keystone.common.sql`).
ORM_MODULE_PARTS = frozenset({"models", "db", "database", "sql", "orm"})

CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")

Loop = Union[ast.For, ast.AsyncFor, ast.While, ast.comprehension]


@dataclass(eq=False)
class LoopFrame:
    """A loop or comprehension generator; code inside runs once per item."""

    node: Loop
    iter: ast.expr | None  # None for `while`
    target: ast.expr | None
    parent: LoopFrame | None
    body: list[ast.AST]  # what runs per item (statements or expressions)
    scales: int | None = None  # what it repeats with, a `LoopScale` (set by query-in-loop, lazily)


@dataclass(eq=False)
class CallSite:
    node: ast.Call
    frame: LoopFrame | None
    # True when the call sits in a block that leaves the loop (ends in return/break/raise):
    # it runs at most once however many items there are.
    leaves_loop: bool


@dataclass(eq=False)
class Scope:
    """A function body (or the module): where local names are resolved."""

    node: ast.AST
    parent: Scope | None
    owner_class: ast.ClassDef | None = None
    params: set[str] = field(default_factory=set)
    assignments: dict[str, list[ast.expr]] = field(default_factory=dict)
    # name -> loop frames binding it as a loop variable
    loop_bindings: dict[str, list[LoopFrame]] = field(default_factory=dict)
    # values added to a name by `+=`, `.append()`, `.extend()`
    contributions: dict[str, list[ast.expr]] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    loops: list[LoopFrame] = field(default_factory=list)
    returns: list[ast.Return] = field(default_factory=list)
    truth_tests: list[ast.expr] = field(default_factory=list)
    compares: list[ast.Compare] = field(default_factory=list)
    indexed_calls: list[ast.Subscript] = field(default_factory=list)
    receiver_calls: set[int] = field(default_factory=set)
    # On the module's scope: its functions and its classes' methods, by (class name or "", name).
    functions: dict[tuple[str, str], Scope] = field(default_factory=dict)

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef))

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<module>")

    def values_of(self, name: str) -> list[ast.expr] | None:
        """Every value assigned to a local name, or None when it is not a plain local."""
        if name in self.params or name in self.loop_bindings:
            return None
        return self.assignments.get(name)

    def constant(self, name: str) -> bool:
        """A name only ever bound to literal constants here, never added to (`sides = ("aff", "neg")`)."""
        values = self.values_of(name)
        return bool(values) and name not in self.contributions and all(_is_literal(v) for v in values)


@dataclass(eq=False)
class ModuleIndex:
    filename: str
    tree: ast.Module
    module: Scope
    scopes: list[Scope]
    classes: list[ast.ClassDef]
    imports: dict[str, str]  # local name -> "module.name"
    is_database_code: bool
    is_migration: bool
    endpoint_decorators: frozenset[str] = frozenset()
    backend: str | None = None
    pagination_helpers: frozenset[str] = frozenset()  # the project's, besides the frameworks' own
    # Every model of the project and its relations (empty when the file belongs to no project).
    project: ProjectIndex = field(default_factory=lambda: EMPTY)
    # Work several checks share (a parsed migration): computed once, freed with the index.
    memo: dict[str, object] = field(default_factory=dict)

    def callee(self, call: ast.Call, caller: Scope) -> Scope | None:
        """The function of this module (`helper(x)`), or the method of the caller's class or of a base class
        declared here (`self.helper(x)`), that a call runs; None when it is not known."""
        func = call.func
        if isinstance(func, ast.Name):
            return self.module.functions.get(("", func.id))
        owner = caller.owner_class
        if owner is None or not isinstance(func, ast.Attribute) or getattr(func.value, "id", None) != "self":
            return None
        for cls in (owner.name, *(getattr(b, "id", None) or getattr(b, "attr", "") for b in owner.bases)):
            found = self.module.functions.get((cls, func.attr))
            if found is not None:
                return found
        return None

    @staticmethod
    def positional_parameters(function: Scope) -> list[str]:
        """The parameters a call's positional arguments fill, in order: a method's `self`/`cls` left out."""
        node = function.node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return []
        names = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
        return names[1:] if function.owner_class is not None and names[:1] in (["self"], ["cls"]) else names

    def callers(self, function: Scope) -> list[tuple[ast.Call, Scope]]:
        """Every call of this module that runs `function`, with the scope it is made from."""
        found: dict[int, list[tuple[ast.Call, Scope]]] | None = self.memo.get("callers")  # type: ignore[assignment]
        if found is None:
            found = {}
            for scope in self.scopes:
                for site in scope.calls:
                    target = self.callee(site.node, scope)
                    if target is not None:
                        found.setdefault(id(target), []).append((site.node, scope))
            self.memo["callers"] = found
        return found.get(id(function), [])

    def module_constant(self, name: str) -> bool:
        """A module-level name only ever bound to literal constants."""
        return self.module.constant(name)


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_literal(k) for k in node.keys) and all(_is_literal(v) for v in node.values)
    return False


_EXITS = (ast.Return, ast.Break, ast.Raise)
# Nodes with nothing inside that any check needs: skipped without a call.
_LEAVES = frozenset(
    {ast.Name, ast.Constant, ast.Pass, ast.Load, ast.Store, ast.Del, ast.alias, ast.Global, ast.Nonlocal}
)
# Fields that never hold analysable code: contexts, operators, type comments, names and numbers.
_NOT_CHILDREN = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "type_comment",
        "kind",
        "attr",
        "id",
        "arg",
        "asname",
        "level",
        "conversion",
        "is_async",
        "simple",
        "kwd_attrs",
    }
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_CONTRIBUTING_METHODS = frozenset({"append", "extend", "insert", "appendleft"})


class _Walker:
    """Builds a ModuleIndex; recursion follows the AST, loop context follows evaluation."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.classes: list[ast.ClassDef] = []
        self.imports: dict[str, str] = {}

    def new_scope(self, node: ast.AST, parent: Scope | None, owner: ast.ClassDef | None) -> Scope:
        scope = Scope(node=node, parent=parent, owner_class=owner)
        self.scopes.append(scope)
        return scope

    # -- generic traversal -------------------------------------------------------------
    # One dictionary lookup per child picks its handler (None: nothing inside to record),
    # so the hot loops below make no call for leaves, operators or plain values.
    def visit(
        self, node: ast.AST, scope: Scope, frame: LoopFrame | None, leaves: bool, owner: ast.ClassDef | None
    ) -> None:
        handler = _DISPATCH[type(node)]
        if handler is not None:
            handler(self, node, scope, frame, leaves, owner)

    def children(
        self, node: ast.AST, scope: Scope, frame: LoopFrame | None, leaves: bool, owner: ast.ClassDef | None
    ) -> None:
        fields = _CHILD_FIELDS.get(type(node))
        if fields is None:
            fields = _CHILD_FIELDS[type(node)] = tuple(f for f in node._fields if f not in _NOT_CHILDREN)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                if not value:
                    continue
                if isinstance(value[0], ast.stmt):
                    self.block(value, scope, frame, leaves, owner)
                    continue
                for item in value:
                    handler = _DISPATCH[type(item)]
                    if handler is not None:
                        handler(self, item, scope, frame, leaves, owner)
            else:
                handler = _DISPATCH[type(value)]
                if handler is not None:
                    handler(self, value, scope, frame, leaves, owner)

    def block(
        self, stmts: list[ast.stmt], scope: Scope, frame: LoopFrame | None, leaves: bool, owner: ast.ClassDef | None
    ) -> None:
        leaves = leaves or (frame is not None and isinstance(stmts[-1], _EXITS))
        for stmt in stmts:
            handler = _DISPATCH[type(stmt)]
            if handler is not None:
                handler(self, stmt, scope, frame, leaves, owner)

    def each(
        self, nodes: list[ast.AST], scope: Scope, frame: LoopFrame | None, leaves: bool, owner: ast.ClassDef | None
    ) -> None:
        for item in nodes:
            handler = _DISPATCH[type(item)]
            if handler is not None:
                handler(self, item, scope, frame, leaves, owner)

    # The most frequent nodes visit their fields directly, in `_fields` order, as `children` would.
    def value_only(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.visit(node.value, scope, frame, leaves, owner)

    def elements(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.each(node.elts, scope, frame, leaves, owner)

    def dict_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.each(node.keys, scope, frame, leaves, owner)
        self.each(node.values, scope, frame, leaves, owner)

    def argument(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if node.annotation is not None:
            self.visit(node.annotation, scope, frame, leaves, owner)

    def arguments(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.each(node.posonlyargs, scope, frame, leaves, owner)
        self.each(node.args, scope, frame, leaves, owner)
        if node.vararg is not None:
            self.visit(node.vararg, scope, frame, leaves, owner)
        self.each(node.kwonlyargs, scope, frame, leaves, owner)
        self.each(node.kw_defaults, scope, frame, leaves, owner)
        if node.kwarg is not None:
            self.visit(node.kwarg, scope, frame, leaves, owner)
        self.each(node.defaults, scope, frame, leaves, owner)

    # -- scopes --------------------------------------------------------------------------
    def function(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        for deco in node.decorator_list:
            self.visit(deco, scope, frame, leaves, owner)
        self.visit(node.args, scope, frame, leaves, owner)
        if node.returns is not None:
            self.visit(node.returns, scope, frame, leaves, owner)
        inner = self.new_scope(node, scope, owner)
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                inner.params.add(arg.arg)
        self.block(node.body, inner, None, False, None)

    def lambda_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.visit(node.args, scope, frame, leaves, owner)
        inner = self.new_scope(node, scope, None)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            inner.params.add(arg.arg)
        self.visit(node.body, inner, None, False, None)

    def class_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.classes.append(node)
        for child in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(child, scope, frame, leaves, owner)
        self.block(node.body, scope, frame, leaves, node)

    # -- loops ---------------------------------------------------------------------------
    def for_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        self.visit(node.iter, scope, frame, leaves, owner)
        inner = LoopFrame(node, node.iter, node.target, frame, list(node.body))
        scope.loops.append(inner)
        self.bind_target(node.target, scope, inner)
        self.block(node.body, scope, inner, False, owner)
        if node.orelse:
            self.block(node.orelse, scope, frame, leaves, owner)

    def while_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        inner = LoopFrame(node, None, None, frame, [node.test, *node.body])
        scope.loops.append(inner)
        self.visit(node.test, scope, inner, False, owner)
        scope.truth_tests.append(node.test)
        self.block(node.body, scope, inner, False, owner)
        if node.orelse:
            self.block(node.orelse, scope, frame, leaves, owner)

    def comprehension(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, ast.DictComp):
            results: list[ast.AST] = [node.key, node.value]
        else:
            results = [node.elt]
        current = frame
        generators = node.generators
        for index, gen in enumerate(generators):
            self.visit(gen.iter, scope, current, leaves if index == 0 else False, owner)
            rest: list[ast.AST] = [*gen.ifs, *[g for g in generators[index + 1 :]], *results]
            inner = LoopFrame(gen, gen.iter, gen.target, current, rest)
            scope.loops.append(inner)
            self.bind_target(gen.target, scope, inner)
            for cond in gen.ifs:
                self.visit(cond, scope, inner, False, owner)
            current = inner
        for result in results:
            self.visit(result, scope, current, False, owner)

    def bind_target(self, target: ast.expr, scope: Scope, frame: LoopFrame) -> None:
        for name in _target_names(target):
            scope.loop_bindings.setdefault(name, []).append(frame)

    # -- records -------------------------------------------------------------------------
    def assign(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        value = node.value
        if value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _target_names(target):
                    scope.assignments.setdefault(name, []).append(value)
        if type(node) is ast.Assign:
            self.each(node.targets, scope, frame, leaves, owner)
            self.visit(value, scope, frame, leaves, owner)
        else:
            self.children(node, scope, frame, leaves, owner)

    def aug_assign(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node.target, ast.Name):
            scope.contributions.setdefault(node.target.id, []).append(node.value)
        self.children(node, scope, frame, leaves, owner)

    def named_expr(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        scope.assignments.setdefault(node.target.id, []).append(node.value)
        self.children(node, scope, frame, leaves, owner)

    def with_item(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if node.optional_vars is not None:
            for name in _target_names(node.optional_vars):
                scope.assignments.setdefault(name, []).append(node.context_expr)
        self.children(node, scope, frame, leaves, owner)

    def call(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        scope.calls.append(CallSite(node, frame, leaves))
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _CONTRIBUTING_METHODS and isinstance(func.value, ast.Name):
            scope.contributions.setdefault(func.value.id, []).extend(node.args)
        self.visit(func, scope, frame, leaves, owner)
        self.each(node.args, scope, frame, leaves, owner)
        for keyword in node.keywords:
            self.visit(keyword.value, scope, frame, leaves, owner)

    def attribute(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node.value, ast.Call):
            scope.receiver_calls.add(id(node.value))
        self.visit(node.value, scope, frame, leaves, owner)

    def subscript(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node.value, ast.Call):
            scope.indexed_calls.append(node)
        self.visit(node.value, scope, frame, leaves, owner)
        self.visit(node.slice, scope, frame, leaves, owner)

    def return_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        scope.returns.append(node)
        if node.value is not None:
            self.visit(node.value, scope, frame, leaves, owner)

    def test(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        scope.truth_tests.append(node.test)
        self.children(node, scope, frame, leaves, owner)

    def not_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node.op, ast.Not):
            scope.truth_tests.append(node.operand)
        self.children(node, scope, frame, leaves, owner)

    def compare(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        scope.compares.append(node)
        self.visit(node.left, scope, frame, leaves, owner)
        self.each(node.comparators, scope, frame, leaves, owner)

    def import_(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            self.imports[local] = alias.name

    def import_from(self, node, scope, frame, leaves, owner) -> None:  # type: ignore[no-untyped-def]
        # `from .models import Book` -> `.models.Book`; `from . import services` -> `.services`
        package = "." * node.level + (f"{node.module}." if node.module else "")
        for alias in node.names:
            self.imports[alias.asname or alias.name] = f"{package}{alias.name}"


_HANDLERS = {
    ast.FunctionDef: _Walker.function,
    ast.AsyncFunctionDef: _Walker.function,
    ast.Lambda: _Walker.lambda_,
    ast.ClassDef: _Walker.class_,
    ast.For: _Walker.for_,
    ast.AsyncFor: _Walker.for_,
    ast.While: _Walker.while_,
    ast.ListComp: _Walker.comprehension,
    ast.SetComp: _Walker.comprehension,
    ast.GeneratorExp: _Walker.comprehension,
    ast.DictComp: _Walker.comprehension,
    ast.Assign: _Walker.assign,
    ast.AnnAssign: _Walker.assign,
    ast.AugAssign: _Walker.aug_assign,
    ast.NamedExpr: _Walker.named_expr,
    ast.withitem: _Walker.with_item,
    ast.Call: _Walker.call,
    ast.Attribute: _Walker.attribute,
    ast.Subscript: _Walker.subscript,
    ast.Return: _Walker.return_,
    ast.If: _Walker.test,
    ast.IfExp: _Walker.test,
    ast.Assert: _Walker.test,
    ast.UnaryOp: _Walker.not_,
    ast.Compare: _Walker.compare,
    ast.Import: _Walker.import_,
    ast.ImportFrom: _Walker.import_from,
    ast.Expr: _Walker.value_only,
    ast.keyword: _Walker.value_only,
    ast.Starred: _Walker.value_only,
    ast.Tuple: _Walker.elements,
    ast.List: _Walker.elements,
    ast.Set: _Walker.elements,
    ast.Dict: _Walker.dict_,
    ast.arg: _Walker.argument,
    ast.arguments: _Walker.arguments,
}


class _Dispatch(dict):  # type: ignore[type-arg]
    """type -> its handler: its own, `children` for other nodes, None for leaves and non-nodes (names, numbers)."""

    def __missing__(self, kind: type) -> object:
        handler = None
        if kind not in _LEAVES and issubclass(kind, ast.AST):
            handler = _HANDLERS.get(kind, _Walker.children)
        self[kind] = handler
        return handler


_DISPATCH = _Dispatch()


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for elt in target.elts for name in _target_names(elt)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def imports_database_code(tree: ast.Module) -> bool:
    """Cheap gate: does any import in the module bring in an ORM, a driver or project models?"""
    for node in ast.walk(tree) if _has_nested_imports(tree) else tree.body:
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] in ORM_MODULE_ROOTS for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            parts = module.split(".")
            if parts[0] in ORM_MODULE_ROOTS and node.level == 0:
                return True
            if ORM_MODULE_PARTS.intersection(parts) or any(a.name in ORM_IMPORTED_NAMES for a in node.names):
                return True
    return False


def _has_nested_imports(tree: ast.Module) -> bool:
    # Most modules import at the top; look deeper only when the top level imports nothing.
    return not any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)


def is_migration_module(filename: str, tree: ast.Module) -> bool:
    """Django migrations and Alembic revisions, recognised by content and path."""
    normalized = filename.replace("\\", "/")
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return True
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "down_revision" for t in targets):
            return True  # an Alembic revision (`down_revision: Union[str, None] = ...` in new templates)
    return "/migrations/" in normalized and not normalized.endswith("__init__.py")


def build_index(
    tree: ast.Module,
    filename: str,
    endpoint_decorators: frozenset[str] = frozenset(),
    backend: str | None = None,
    pagination_helpers: frozenset[str] = frozenset(),
    assume_database_code: bool = False,
) -> ModuleIndex:
    walker = _Walker()
    module = walker.new_scope(tree, None, None)
    is_database_code = assume_database_code or imports_database_code(tree)
    if is_database_code and tree.body:
        walker.block(tree.body, module, None, False, None)
    module.functions = {
        (s.owner_class.name if s.owner_class is not None else "", s.name): s
        for s in walker.scopes
        if s.is_function and (s.parent is module or s.owner_class is not None)
    }
    return ModuleIndex(
        filename=filename,
        tree=tree,
        module=module,
        scopes=walker.scopes,
        classes=walker.classes,
        imports=walker.imports,
        is_database_code=is_database_code,
        is_migration=is_migration_module(filename, tree),
        endpoint_decorators=endpoint_decorators,
        backend=backend,
        pagination_helpers=pagination_helpers,
    )


def enclosing_names(node: ast.AST) -> set[str]:
    """Names loaded anywhere inside an expression."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
