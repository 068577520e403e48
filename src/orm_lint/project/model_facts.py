"""What one module declares about models, read from its syntax tree (never by importing it).

Each model's relations (forward and the reverse accessors Django and `backref=` add to the
other side), how each one loads, and properties that return a relation. The facts are plain
data: they are cached as JSON and merged across the project by `project.index`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ..frameworks import models
from .statements import always_run, base_names, called_name, named_assignment
from . import columns, indexes

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "hybrid_property"})
_COLLECTION_ANNOTATIONS = frozenset({"list", "List", "set", "Set", "Sequence", "WriteOnlyMapped", "DynamicMapped"})
_OPTIONAL_WRAPPERS = frozenset({"Optional", "Mapped"})


@dataclass(frozen=True)
class Relation:
    """One attribute of a model that loads other rows when read."""

    target: str | None  # the related model's class name, when the declaration names it
    many: bool  # a collection (reverse FK, many-to-many, one-to-many) rather than one object
    lazy: str = "select"  # the declared loading strategy; Django relations always load lazily
    generic: bool = False  # Django's GenericForeignKey: loaded ahead only by prefetch_related


@dataclass
class ModelFacts:
    """A model class as its module declares it."""

    name: str
    framework: str  # "django" or "sqlalchemy"
    bases: list[str]
    relations: dict[str, Relation] = field(default_factory=dict)
    # property name -> the relations it returns (`return self.event or self.contribution`)
    relation_properties: dict[str, list[str]] = field(default_factory=dict)
    abstract: bool = False
    # method or property name -> the attributes of `self` it reads (`def label(self): return self.author.name`)
    method_reads: dict[str, list[str]] = field(default_factory=dict)
    properties: list[str] = field(default_factory=list)  # which of those are read as attributes
    module: str = ""  # the dotted module that declares it (set when the index is merged)
    columns: list[str] = field(default_factory=list)  # attributes declared as columns (Django fields, FKs included)
    unique_sets: list[list[str]] = field(default_factory=list)  # column sets a constraint keeps unique
    uncertain_columns: list[str] = field(default_factory=list)  # may be unique in a way the reader cannot see
    unreadable_uniques: bool = False  # a computed `__table_args__`/`Meta.constraints`: uniqueness unknown
    table: str = ""  # `__tablename__`, when a constant
    leading_indexes: list[list[str]] = field(default_factory=list)  # each index's leading plain columns
    json_columns: list[str] = field(default_factory=list)
    json_indexed: list[str] = field(default_factory=list)  # JSON columns a GIN or an expression index covers
    poor_leaders: list[str] = field(default_factory=list)  # few values or large ones: no advised index leads with them
    unreadable_indexes: bool = False
    # Set when the index is merged, from the whole project's queries (project.index_advice).
    asked_indexes: list[dict[str, Any]] = field(default_factory=list)
    json_key_filters: list[dict[str, Any]] = field(default_factory=list)
    revision_indexes: list[list[str]] = field(default_factory=list)  # created by Alembic revisions, not the class

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelFacts:
        relations = {name: Relation(**value) for name, value in data["relations"].items()}
        return cls(
            name=data["name"],
            framework=data["framework"],
            bases=list(data["bases"]),
            relations=relations,
            relation_properties={k: list(v) for k, v in data["relation_properties"].items()},
            abstract=bool(data["abstract"]),
            method_reads={k: list(v) for k, v in data["method_reads"].items()},
            properties=list(data["properties"]),
            module=str(data.get("module", "")),
            columns=list(data["columns"]),
            unique_sets=[list(names) for names in data["unique_sets"]],
            uncertain_columns=list(data["uncertain_columns"]),
            unreadable_uniques=bool(data["unreadable_uniques"]),
            table=str(data.get("table", "")),
            leading_indexes=[list(names) for names in data.get("leading_indexes", [])],
            json_columns=list(data.get("json_columns", [])),
            json_indexed=list(data.get("json_indexed", [])),
            poor_leaders=list(data.get("poor_leaders", [])),
            unreadable_indexes=bool(data.get("unreadable_indexes", False)),
        )


@dataclass
class ModuleFacts:
    """Everything one module adds to the project index."""

    models: list[ModelFacts] = field(default_factory=list)
    # relations a model declares on another (`backref=`, Django reverse accessors): (owner, attribute, relation)
    added_relations: list[tuple[str, str, Relation]] = field(default_factory=list)
    # methods of custom managers and querysets that return a queryset -> the relations they load along
    queryset_methods: dict[str, list[str]] = field(default_factory=dict)
    # Django REST framework serializers -> the attributes they read on each object they serialise
    serializers: dict[str, list[str]] = field(default_factory=dict)
    # serializers this module renders many objects with: a list view's `serializer_class`, `X(qs, many=True)`
    listed_serializers: list[str] = field(default_factory=list)
    # indexes and unique constraints an Alembic revision creates, by table (project.revisions)
    table_indexes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    query_sites: list[dict[str, Any]] = field(default_factory=list)  # project.query_sites

    def as_json(self) -> dict[str, Any]:
        return {
            "models": [m.as_json() for m in self.models],
            "added": [[owner, name, asdict(relation)] for owner, name, relation in self.added_relations],
            "queryset_methods": self.queryset_methods,
            "serializers": self.serializers,
            "listed_serializers": self.listed_serializers,
            "table_indexes": self.table_indexes,
            "query_sites": self.query_sites,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModuleFacts:
        return cls(
            models=[ModelFacts.from_json(m) for m in data["models"]],
            added_relations=[(owner, name, Relation(**relation)) for owner, name, relation in data["added"]],
            queryset_methods={name: list(loaded) for name, loaded in data["queryset_methods"].items()},
            serializers={name: list(reads) for name, reads in data["serializers"].items()},
            listed_serializers=list(data.get("listed_serializers", [])),
            table_indexes=dict(data.get("table_indexes", {})),
            query_sites=list(data.get("query_sites", [])),
        )


# A class statement with a base whose name ends in Model or Base (`models.Model`, `TimeStampedModel`,
# `DeclarativeBase`, `db.Model`, `SQLModel`), or a relationship() call; not `ModelAdmin` or `ModelForm`.
_MAY_DECLARE = re.compile(
    rb"^[ \t]*class[ \t]+\w+[ \t]*\([^)]*?\w*(Model|Base|Manager|QuerySet|Serializer)[ \t]*[,)\[]"
    rb"|relationship\(|Relationship\(",
    re.MULTILINE,
)


def may_declare_models(data: bytes) -> bool:
    """A cheap test on the raw bytes: most modules declare no model and need not be parsed."""
    if not any(word in data for word in _DECLARING_WORDS):
        return False  # a substring test per word is far cheaper than the pattern on every file
    return _MAY_DECLARE.search(data) is not None


_DECLARING_WORDS = (b"Model", b"Base", b"Manager", b"QuerySet", b"Serializer", b"elationship(")


def module_facts(tree: ast.Module) -> ModuleFacts:
    """The models a module declares, with their relations."""
    facts = ModuleFacts()
    unique_indexes = columns.module_unique_indexes(tree)
    module_indexes = indexes.module_indexes(tree)
    for node in _classes(tree.body):
        if _is_manager_or_queryset(node):
            facts.queryset_methods.update(_queryset_methods(node))
            continue
        if is_serializer(node):
            facts.serializers[node.name] = serializer_reads(node)
            continue
        model = _model(node, facts)
        if model is not None:
            facts.models.append(model)
    for model in facts.models:
        model.unique_sets.extend(unique_indexes.get(model.name, []))
        model.leading_indexes.extend(module_indexes.get(model.name, []))
    return facts


# Views that render many objects with their serializer (list actions).
_LIST_VIEW_MARKERS = ("List", "ViewSet")


def may_list_serializers(data: bytes) -> bool:
    """A cheap test on the raw bytes: the module may render many objects with a serializer."""
    return b"serializer_class" in data or b"many=True" in data


def listed_serializers(tree: ast.Module, text: bytes | None = None) -> list[str]:
    """Serializers the module renders many objects with: the `serializer_class` of a (module-level) list view or
    viewset; and, given the module's `text`, `XSerializer(..., many=True)` and the `serializer_class` of a view
    calling `self.get_serializer(..., many=True)`, read in the statements whose lines say `many=True`."""
    found: set[str] = set()
    many_lines = _many_lines(text) if text is not None else []
    for node in tree.body:
        own = serializer_class(node) if isinstance(node, ast.ClassDef) else None
        if own and is_list_view(node):  # type: ignore[arg-type]
            found.add(own)
        if not any(node.lineno <= n <= (node.end_lineno or node.lineno) for n in many_lines):
            continue
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            if not any(
                k.arg == "many" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
            ):
                continue
            name = called_name(call) or ""
            if name.endswith("Serializer"):
                found.add(name)
            elif name == "get_serializer" and own:
                found.add(own)
    return sorted(found)


def is_serializer(cls: ast.ClassDef) -> bool:
    """A Django REST framework serializer: a class with a base named `...Serializer`."""
    return any(name.endswith("Serializer") for name in base_names(cls))


def is_list_view(cls: ast.ClassDef) -> bool:
    """A view that renders many objects with its serializer: a list view or a viewset."""
    return any(marker in name for name in base_names(cls) for marker in _LIST_VIEW_MARKERS)


def serializer_class(cls: ast.ClassDef) -> str | None:
    """The class name a view's `serializer_class = ...` names (`BookSerializer`, `serializers.BookSerializer`)."""
    for stmt in cls.body:
        target, _, value = named_assignment(stmt)
        if target == "serializer_class" and isinstance(value, (ast.Name, ast.Attribute)):
            return value.id if isinstance(value, ast.Name) else value.attr
    return None


def _many_lines(data: bytes) -> list[int]:
    """The numbers of the lines that say `many=True`."""
    return [data.count(b"\n", 0, match.start()) + 1 for match in _MANY.finditer(data)]


_MANY = re.compile(rb"\bmany\s*=\s*True")


# Serializer fields that read only the related key (DRF's pk-only optimisation) or nothing of the object.
_KEY_ONLY_FIELDS = frozenset(
    {
        "PrimaryKeyRelatedField",
        "HyperlinkedRelatedField",
        "HyperlinkedIdentityField",
        "SerializerMethodField",
        "HiddenField",
    }
)


def serializer_reads(cls: ast.ClassDef) -> list[str]:
    """Attributes a serializer reads on each object: its declared fields (`source="author.name"` or the field's
    own name: a nested serializer, a `SlugRelatedField`, a `CharField` named after a relation), and what
    `get_<field>(self, obj)` and `to_representation(self, instance)` read on their object, not the fields
    that read only the related key."""
    reads: set[str] = set()
    for stmt in cls.body:
        target, _, value = named_assignment(stmt)
        if target is not None and isinstance(value, ast.Call):
            source = _text(_keyword(value, "source"))
            if source and source != "*":
                reads.add(source.split(".")[0])
            elif called_name(value) not in _KEY_ONLY_FIELDS and not target.startswith("_"):
                reads.add(target)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            stmt.name.startswith("get_") or stmt.name == "to_representation"
        ):
            parameters = [a.arg for a in stmt.args.args]
            if len(parameters) >= 2:
                item = parameters[1]
                reads |= {
                    node.attr
                    for node in ast.walk(stmt)
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == item
                }
    return sorted(reads)


_MANAGER_BASES = frozenset({"Manager", "QuerySet", "BaseManager", "ManagerMixin"})
_LOADING_METHODS = frozenset({"select_related", "prefetch_related"})


def _is_manager_or_queryset(cls: ast.ClassDef) -> bool:
    return any(name in _MANAGER_BASES or name.endswith(("Manager", "QuerySet")) for name in base_names(cls))


def _queryset_methods(cls: ast.ClassDef) -> dict[str, list[str]]:
    """`def visible(self): return self.filter(...).select_related("author")` -> {"visible": ["author"]}.

    Only methods that return a chain on `self` or `self.get_queryset()`: they return a queryset of the model.
    A `select_related()` with no arguments loads every relation: recorded as `*`.
    """
    found: dict[str, list[str]] = {}
    for stmt in cls.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or stmt.name.startswith("__"):
            continue
        returns = [n.value for n in ast.walk(stmt) if isinstance(n, ast.Return) and n.value is not None]
        if not returns or not all(_chain_on_self(r) for r in returns):
            continue
        loaded: set[str] = set()
        for value in returns:
            for node in ast.walk(value):
                if isinstance(node, ast.Call) and called_name(node) in _LOADING_METHODS:
                    if not node.args and called_name(node) == "select_related":
                        loaded.add("*")
                    for arg in node.args:
                        text = _text(arg)
                        if text:
                            loaded.add(text.split("__")[0])
                        elif isinstance(arg, ast.Call) and arg.args and _text(arg.args[0]):  # Prefetch("x", ...)
                            loaded.add(str(_text(arg.args[0])).split("__")[0])
        found[stmt.name] = sorted(loaded)
    return found


def _chain_on_self(expr: ast.expr) -> bool:
    node = expr
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return isinstance(node, ast.Name) and node.id in {"self", "qs", "queryset"}


def _classes(body: list[ast.stmt]) -> Iterator[ast.ClassDef]:
    """Classes at module level, also under `if`/`try` (never inside functions: walking those is the cost)."""
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            yield stmt
        elif isinstance(stmt, (ast.If, ast.Try)):
            yield from _classes([*stmt.body, *stmt.orelse, *getattr(stmt, "finalbody", [])])


def _model(cls: ast.ClassDef, facts: ModuleFacts) -> ModelFacts | None:
    bases = base_names(cls)
    django_style = any(_is_django_field(stmt) for stmt in cls.body) or _django_base(cls)
    sqlalchemy_style = _sqlalchemy_style(cls)
    if not (django_style or sqlalchemy_style or bases):
        return None
    framework = "django" if django_style and not sqlalchemy_style else "sqlalchemy" if sqlalchemy_style else ""
    model = ModelFacts(cls.name, framework, bases, abstract=_abstract(cls))
    model.columns, model.unique_sets, model.uncertain_columns, model.unreadable_uniques = columns.read_columns(
        cls, bases
    )
    declared = indexes.read_indexes(cls)
    model.leading_indexes, model.json_columns, model.json_indexed = (
        declared.leading,
        declared.json_columns,
        declared.json_indexed,
    )
    model.poor_leaders, model.unreadable_indexes = declared.poor_leaders, declared.unreadable
    model.table = _table_name(cls)
    for stmt in cls.body:
        target, annotation, value = named_assignment(stmt)
        if target is None:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                returned = _returned_relations(stmt)
                if returned:
                    model.relation_properties[stmt.name] = returned
                _method_reads(stmt, model)
            continue
        if isinstance(value, ast.Call):
            called = called_name(value)
            kind = models.django_relation_field(called)
            if kind is not None:
                model.framework = model.framework or "django"
                _django_relation(cls.name, target, value, kind, model, facts)
                continue
            if called == "GenericForeignKey":
                model.framework = model.framework or "django"
                model.relations[target] = Relation(None, many=False, generic=True)
                continue
            if called == "GenericRelation":
                model.relations[target] = Relation(_name_of(value.args[0]) if value.args else None, many=True)
                continue
            if called in models.RELATIONSHIP_CALLS:
                model.framework = model.framework or "sqlalchemy"
                _sqlalchemy_relation(cls.name, target, annotation, value, model, facts)
    if not model.framework and not model.relations:
        return None if not bases else model  # a plain class: kept for inheritance only when it has bases
    return model


def _table_name(cls: ast.ClassDef) -> str:
    for stmt in cls.body:
        target, _, value = named_assignment(stmt)
        if target == "__tablename__" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return ""


def _is_django_field(stmt: ast.stmt) -> bool:
    _, _, value = named_assignment(stmt)
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id == "models"
    )


def _django_base(cls: ast.ClassDef) -> bool:
    return any(
        isinstance(b, ast.Attribute) and b.attr == "Model" and isinstance(b.value, ast.Name) and b.value.id == "models"
        for b in cls.bases
    )


def _sqlalchemy_style(cls: ast.ClassDef) -> bool:
    for stmt in cls.body:
        target, annotation, value = named_assignment(stmt)
        if target == "__tablename__":
            return True
        if isinstance(annotation, ast.Subscript) and _name_of(annotation.value) == "Mapped":
            return True
        if isinstance(value, ast.Call) and called_name(value) in models.COLUMN_CALLS | models.RELATIONSHIP_CALLS:
            if called_name(value) != "Field" or any(k.arg == "table" for k in cls.keywords):
                return True
    return any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in cls.keywords)


def _abstract(cls: ast.ClassDef) -> bool:
    for stmt in cls.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for inner in stmt.body:
                target, _, value = named_assignment(inner)
                if target == "abstract" and isinstance(value, ast.Constant) and value.value is True:
                    return True
        target, _, value = named_assignment(stmt)
        if target == "__abstract__" and isinstance(value, ast.Constant) and value.value is True:
            return True
    return False


def _name_of(expr: ast.expr | None) -> str:
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value.rsplit(".", 1)[-1]
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _text(expr: ast.expr | None) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def _django_relation(
    owner: str, attribute: str, call: ast.Call, kind: str, model: ModelFacts, facts: ModuleFacts
) -> None:
    reference = call.args[0] if call.args else _keyword(call, "to")
    target = _name_of(reference) if reference is not None else ""
    if target == "self":
        target = owner
    if target in {"AUTH_USER_MODEL", ""}:
        target = "User" if target == "AUTH_USER_MODEL" else ""
    many = kind == models.DJANGO_MANY_TO_MANY
    model.relations[attribute] = Relation(target or None, many)
    if not target:
        return
    related_name = _text(_keyword(call, "related_name"))
    if related_name is not None and (related_name.endswith("+") or "%" in related_name):
        return  # no reverse accessor, or one named per subclass
    one_to_one = kind == "OneToOneField"
    reverse = related_name or (owner.lower() if one_to_one else f"{owner.lower()}_set")
    facts.added_relations.append((target, reverse, Relation(owner, many=not one_to_one)))


def _sqlalchemy_relation(
    owner: str, attribute: str, annotation: ast.expr | None, call: ast.Call, model: ModelFacts, facts: ModuleFacts
) -> None:
    annotated_target, annotated_many = _annotated_target(annotation)
    target = _name_of(call.args[0]) if call.args else annotated_target
    target = target or annotated_target
    uselist = _keyword(call, "uselist")
    if isinstance(uselist, ast.Constant) and isinstance(uselist.value, bool):
        many = uselist.value
    elif annotated_many is not None:
        many = annotated_many
    else:
        many = attribute.endswith("s")  # untyped: `comments = relationship("Comment")` is a collection
    model.relations[attribute] = Relation(target or None, many, _lazy(call))
    backref = _keyword(call, "backref")
    name = _text(backref)
    lazy = "select"
    if isinstance(backref, ast.Call) and backref.args:  # backref("post", lazy="joined")
        name, lazy = _text(backref.args[0]), _lazy(backref)
    if name and target:
        facts.added_relations.append((target, name, Relation(owner, many=not many, lazy=lazy)))


def _annotated_target(annotation: ast.expr | None) -> tuple[str | None, bool | None]:
    """`Mapped[list["Comment"]]` -> ("Comment", True); `Optional["Team"]` -> ("Team", False)."""
    node = annotation
    many: bool | None = None
    while node is not None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None, many
            continue
        if isinstance(node, ast.BinOp):  # `Team | None`
            node = node.left if _name_of(node.left) not in {"None", ""} else node.right
            continue
        if isinstance(node, ast.Subscript):
            outer = _name_of(node.value)
            inner = node.slice
            if outer in _COLLECTION_ANNOTATIONS:
                many = True
            elif outer in _OPTIONAL_WRAPPERS and many is None:
                pass
            else:
                return None, many
            node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
            continue
        name = _name_of(node)
        return (name or None), (False if many is None and name else many)
    return None, many


def _lazy(call: ast.Call) -> str:
    value = _keyword(call, "lazy")
    if value is None:
        kwargs = _keyword(call, "sa_relationship_kwargs")
        if isinstance(kwargs, ast.Dict):
            for key, item in zip(kwargs.keys, kwargs.values):
                if _text(key) == "lazy":
                    value = item
    if value is None:
        return "select"
    if isinstance(value, ast.Constant):
        return str(value.value)
    return "unknown"


def _method_reads(function: ast.FunctionDef | ast.AsyncFunctionDef, model: ModelFacts) -> None:
    """What a method or property reads on `self`: calling it per item loads the relations among them."""
    if function.name.startswith("__") or not function.args.args or function.args.args[0].arg != "self":
        return
    decorators = {_name_of(d) for d in function.decorator_list}
    if decorators & {"staticmethod", "classmethod", "setter", "deleter"} or any(
        isinstance(d, ast.Attribute) and d.attr in {"setter", "deleter", "expression"} for d in function.decorator_list
    ):
        return
    reads = {
        node.attr
        for node in always_run(function.body)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }
    if reads:
        model.method_reads[function.name] = sorted(reads)
        if decorators & _PROPERTY_DECORATORS:
            model.properties.append(function.name)


def _returned_relations(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """`return self.event or self.contribution` under @property: the attributes it may return."""
    if not any(_name_of(d) in _PROPERTY_DECORATORS for d in function.decorator_list):
        return []
    returned: list[str] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            for value in _alternatives(node.value):
                if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
                    returned.append(value.attr)
    return returned


def _alternatives(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BoolOp):
        return [v for value in expr.values for v in _alternatives(value)]
    if isinstance(expr, ast.IfExp):
        return _alternatives(expr.body) + _alternatives(expr.orelse)
    return [expr]
