"""The mypy plugin: hook lookups by fullname, each hook chained to the plugins after it.

mypy's chain gives each fullname to the first plugin that claims it. django-stubs claims
the base-class hook of every model, so orm-lint must be listed first and must call the
rest of the chain from every hook it claims; then django-stubs' results are unchanged.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from mypy.nodes import FuncDef, LambdaExpr, MypyFile, TypeInfo
from mypy.options import Options
from mypy.plugin import (
    AttributeContext,
    ClassDefContext,
    FunctionContext,
    MethodContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import Type

from .. import __version__
from ..cache import settings_document
from ..catalogue import Rule
from ..catalogue.correctness import LAZY_LOAD_THAT_RAISES
from ..catalogue.performance import DEFERRED_COLUMN_PER_ITEM, LAZY_LOAD_PER_ITEM
from ..config import LEFT_OUT_VARIABLE, SETTINGS_FOLDER_VARIABLE, ConfigError, Settings, load_settings, rule_enabled
from ..fingerprint import source_fingerprint
from ..frameworks import fullnames
from . import reporting, tenant
from .errorcodes import INTERNAL
from .function_map import FunctionMap, map_function
from .lazy_loads import check_lazy_load
from .model_facts import collect_facts, framework_of, store_facts
from .untyped_items import UNTYPED_SOURCES, sweep_untyped_items

_MAP_CACHE_SIZE = 512
# What each hook reports: it does its work only while one of its rules is on. The gate of each
# rule is `reporting.report`, so one rule's setting never switches another.
LAZY_LOAD_RULES: tuple[Rule, ...] = (LAZY_LOAD_PER_ITEM, DEFERRED_COLUMN_PER_ITEM, LAZY_LOAD_THAT_RAISES)
UNTYPED_ITEM_RULES: tuple[Rule, ...] = (LAZY_LOAD_PER_ITEM,)
TENANT_RULES: tuple[Rule, ...] = (tenant.QUERY_WITHOUT_TENANT_FILTER,)


# An edited checkout must not reuse stale mypy caches.
SOURCE_FINGERPRINT = source_fingerprint()


def blinding_settings(options: Options) -> str:
    """What in mypy's settings keeps the type-aware rules from seeing code, and the fix; "" when nothing does."""
    reasons = []
    if not options.check_untyped_defs:
        reasons.append(
            "check_untyped_defs is off, so mypy skips unannotated functions (most views): set check_untyped_defs = True"
        )
    if options.follow_imports in ("skip", "error"):
        reasons.append(f"follow_imports = {options.follow_imports} hides imported models: set follow_imports = normal")
    ours = set(os.environ.get(LEFT_OUT_VARIABLE, "").split(","))  # modules `orm-lint check` cannot parse
    hidden = [
        pattern
        for pattern, values in options.per_module_options.items()
        if pattern not in ours and (values.get("follow_imports") in ("skip", "error") or values.get("ignore_errors"))
    ]
    if hidden:
        reasons.append(
            f"follow_imports = skip or ignore_errors for {', '.join(sorted(hidden)[:5])}: the rules see no models and "
            "report nothing there"
        )
    plugins = {p.split(":")[0].strip() for p in options.plugins}
    if fullnames.DJANGO_STUBS_PLUGIN not in plugins and Path("manage.py").is_file():
        reasons.append(f"a Django project without django-stubs: add {fullnames.DJANGO_STUBS_PLUGIN} to `plugins`")
    return "; ".join(reasons)


def _flatten(plugin: Any) -> list[Plugin]:
    """The plugins of a (possibly nested) ChainedPlugin, in order (a private attribute of mypy)."""
    inner = getattr(plugin, "_plugins", None)
    if inner is None:
        return [plugin]
    return [leaf for child in inner for leaf in _flatten(child)]


class OrmLintPlugin(Plugin):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._model_classes: dict[str, bool] = {}
        self._next_hooks: dict[tuple[str, str], Callable[..., Any] | None] = {}
        self._maps: OrderedDict[int, tuple[object, FunctionMap]] = OrderedDict()
        self._failed_files: set[str] = set()
        self._swept: set[int] = set()  # ids of FunctionMaps (kept alive by self._maps)
        self._warn_about_order(options)
        blinded = blinding_settings(options)
        if blinded:
            sys.stderr.write(f"orm-lint: note: mypy's settings hide code from orm-lint's type-aware rules: {blinded}\n")
        self.settings = self._load_settings(options)
        reporting.use_settings(self.settings)

    @staticmethod
    def _load_settings(options: Options) -> Settings:
        """`[tool.orm-lint]` / `[orm-lint]` next to the mypy configuration (or the working folder)."""
        config = Path(options.config_file).resolve() if options.config_file else None
        start = config.parent if config else Path.cwd()
        project = os.environ.get(SETTINGS_FOLDER_VARIABLE)
        if project:  # `orm-lint check` runs mypy on a temporary copy of the project's mypy config
            config, start = None, Path(project)
        try:
            settings = load_settings(start, also=config)
        except ConfigError as error:
            sys.stderr.write(f"orm-lint: {error}; using default settings\n")
            return Settings()
        for warning in settings.warnings:
            sys.stderr.write(f"orm-lint: warning: {warning}\n")
        return settings

    # -- configuration -------------------------------------------------------------------
    def _any_on(self, rules: tuple[Rule, ...]) -> bool:
        return any(rule_enabled(rule.code, self.settings) for rule in rules)

    @cached_property
    def _lazy_loads_enabled(self) -> bool:
        return self._any_on(LAZY_LOAD_RULES)

    @cached_property
    def _untyped_items_enabled(self) -> bool:
        return self._any_on(UNTYPED_ITEM_RULES)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        """Every setting: a change to any of them must not reuse findings from mypy's cache."""
        return {"orm_lint": __version__, "source": SOURCE_FINGERPRINT, "settings": settings_document(self.settings)}

    @staticmethod
    def _warn_about_order(options: Options) -> None:
        plugins = [p.split(":")[0].strip() for p in options.plugins]
        ours = next((i for i, p in enumerate(plugins) if p.startswith(fullnames.ORM_LINT_PLUGIN)), None)
        theirs = next((i for i, p in enumerate(plugins) if p == fullnames.DJANGO_STUBS_PLUGIN), None)
        if ours is not None and theirs is not None and theirs < ours:
            sys.stderr.write(
                "orm-lint: list orm_lint.mypy_plugin before mypy_django_plugin.main in `plugins`; "
                "in this order django-stubs takes the model hooks first and orm-lint checks less\n"
            )

    # -- hook lookup: dictionary hits after the first time ------------------------------
    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        if self._is_model_class(fullname, allow_self=True):
            return partial(self._on_model_class, fullname)
        return None

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner = fullname.rpartition(".")[0]
        if owner and self._is_model_class(owner):
            return partial(self._on_attribute, fullname)
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname in UNTYPED_SOURCES:
            return partial(self._on_untyped_source, fullname)
        if self._tenant_column and fullname in tenant.QUERY_METHODS:
            return partial(self._on_query_root, "get_method_hook", fullname)
        return None

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if self._tenant_column and fullname in tenant.SELECT_FUNCTIONS:
            return partial(self._on_query_root, "get_function_hook", fullname)
        return None

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, attribute = fullname.rpartition(".")
        if self._tenant_column and attribute == "objects" and self._is_model_class(owner):
            return partial(self._on_query_root, "get_class_attribute_hook", fullname)
        return None

    def _is_model_class(self, fullname: str, allow_self: bool = False) -> bool:
        known = self._model_classes.get(fullname)
        if known is not None:
            return known
        if allow_self and fullname in fullnames.MODEL_BASES:
            self._model_classes[fullname] = True
            return True
        try:
            symbol = self.lookup_fully_qualified(fullname)
        except Exception:  # mypy asserts on some partial names; treat as unknown
            return False
        info = symbol.node if symbol is not None else None
        if not isinstance(info, TypeInfo) or not info.mro:
            return False  # not analysed yet: ask again next time
        result = info.fallback_to_any or any(base.fullname in fullnames.MODEL_BASES for base in info.mro)
        self._model_classes[fullname] = result
        return result

    def _next_hook(self, api: Any, method: str, fullname: str) -> Callable[..., Any] | None:
        key = (method, fullname)
        if key not in self._next_hooks:
            plugins = _flatten(getattr(api, "plugin", None))
            position = next((i for i, p in enumerate(plugins) if p is self), len(plugins))
            hook = None
            for plugin in plugins[position + 1 :]:
                hook = getattr(plugin, method)(fullname)
                if hook is not None:
                    break
            self._next_hooks[key] = hook
        return self._next_hooks[key]

    # -- hooks ---------------------------------------------------------------------------
    def _on_model_class(self, fullname: str, ctx: ClassDefContext) -> None:
        try:
            framework = framework_of(ctx.cls.info)
            if framework is not None:
                facts = collect_facts(ctx.cls, framework)
                store_facts(ctx.cls.info, facts)  # foreign keys without an index are the syntax engine's (ORM301)
        except Exception as error:
            self._internal_error(ctx.api, ctx.cls, error)
        hook = self._next_hook(ctx.api, "get_base_class_hook", fullname)
        if hook is not None:
            hook(ctx)

    def _on_attribute(self, fullname: str, ctx: AttributeContext) -> Type:
        hook = self._next_hook(ctx.api, "get_attribute_hook", fullname)
        result = hook(ctx) if hook is not None else ctx.default_attr_type
        try:
            if self._lazy_loads_enabled:
                check_lazy_load(ctx, partial(self._function_map, ctx.api))
        except Exception as error:
            self._internal_error(ctx.api, ctx.context, error)
        return result

    @cached_property
    def _tenant_column(self) -> str | None:
        column = getattr(self.settings, "tenant_column", None)
        return column if column and self._any_on(TENANT_RULES) else None

    def _on_query_root(self, method: str, fullname: str, ctx: Any) -> Type:
        hook = self._next_hook(ctx.api, method, fullname)
        default = getattr(ctx, "default_return_type", None) or getattr(ctx, "default_attr_type", None)
        result = hook(ctx) if hook is not None else default
        try:
            function = self._function_map(ctx.api)
            if function is not None and self._tenant_column:
                tenant.check_tenant_filter(ctx.api, ctx.context, function, self._tenant_column)
        except Exception as error:
            self._internal_error(ctx.api, ctx.context, error)
        return result

    def _on_untyped_source(self, fullname: str, ctx: MethodContext) -> Type:
        hook = self._next_hook(ctx.api, "get_method_hook", fullname)
        result = hook(ctx) if hook is not None else ctx.default_return_type
        self._sweep(ctx.api, ctx.context)
        return result

    def _sweep(self, api: Any, context: Any) -> None:
        """Check the loops of the current function over items typed `Any`, once per function."""
        try:
            function = self._function_map(api)
            if function is not None and id(function) not in self._swept and self._untyped_items_enabled:
                self._swept.add(id(function))
                sweep_untyped_items(api, function)
        except Exception as error:
            self._internal_error(api, context, error)

    def _function_map(self, api: Any) -> FunctionMap | None:
        scope = getattr(api, "scope", None)
        if scope is None:
            return None
        function: object = None
        for entry in reversed(scope.stack):
            if isinstance(entry, FuncDef) or isinstance(entry, MypyFile):
                function = entry
                break
        if function is None or isinstance(function, LambdaExpr):
            return None
        cached = self._maps.get(id(function))
        if cached is not None and cached[0] is function:
            self._maps.move_to_end(id(function))
            return cached[1]
        mapped = map_function(function)  # type: ignore[arg-type]
        self._maps[id(function)] = (function, mapped)
        if len(self._maps) > _MAP_CACHE_SIZE:
            _, (_, evicted) = self._maps.popitem(last=False)
            self._swept.discard(id(evicted))
        return mapped

    def _internal_error(self, api: Any, context: Any, error: Exception) -> None:
        """One note per file; mypy's run goes on."""
        path = getattr(api, "path", None) or getattr(getattr(api, "cur_mod_node", None), "path", "?")
        if path in self._failed_files:
            return
        self._failed_files.add(path)
        message = f"orm-lint internal error in {path}: {error!r}; please report it (the rest of the file was checked)"
        note = getattr(api, "note", None) or getattr(getattr(api, "msg", None), "note", None)
        if note is not None:
            try:
                note(message, context, code=INTERNAL)
                return
            except Exception:
                pass
        sys.stderr.write(message + "\n")
