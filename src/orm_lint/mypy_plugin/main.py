"""The mypy plugin: hook lookups by fullname in the check registry, each hook chained to the plugins after it.

mypy's chain gives each fullname to the first plugin that claims it. django-stubs claims
the base-class hook of every model, so orm-lint must be listed first and must call the
rest of the chain from every hook it claims; then django-stubs' results are unchanged.
The checks themselves register in `checks/` (see `registry.py`); nothing here names a rule.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
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
from ..config import LEFT_OUT_VARIABLE, SETTINGS_FOLDER_VARIABLE, ConfigError, Settings, load_settings, rule_enabled
from ..fingerprint import source_fingerprint
from ..frameworks import fullnames
from . import checks as _registered  # noqa: F401  (importing the package registers every check)
from . import reporting, syntax_places
from .errorcodes import INTERNAL
from .function_map import FunctionMap, map_function
from .model_facts import collect_facts, framework_of, store_facts
from .registry import TYPE_CHECKS, Hook, HookCall, ModelMember, TypeCheck

_MAP_CACHE_SIZE = 512


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
        # ids of FunctionMaps (kept alive by self._maps) -> the once-per-function checks that ran on them
        self._swept: dict[int, set[int]] = {}
        self._warn_about_order(options)
        blinded = blinding_settings(options)
        if blinded:
            sys.stderr.write(f"orm-lint: note: mypy's settings hide code from orm-lint's type-aware rules: {blinded}\n")
        self.settings = self._load_settings(options)
        # `orm-lint check` merges mypy's findings with the syntax engine's; plain mypy leaves shared places to flake8.
        self.merged_by_check = bool(os.environ.get(SETTINGS_FOLDER_VARIABLE))
        reporting.use_settings(self.settings, defer_to_syntax=not self.merged_by_check)
        syntax_places.forget()
        self._checks_by_fullname: dict[Hook, dict[str, list[TypeCheck]]] = {hook: {} for hook in Hook}
        self._checks_by_member: dict[Hook, list[TypeCheck]] = {hook: [] for hook in Hook}
        for check in TYPE_CHECKS:
            if self._is_active(check):
                if isinstance(check.target, ModelMember):
                    self._checks_by_member[check.hook].append(check)
                else:
                    for fullname in check.target:
                        self._checks_by_fullname[check.hook].setdefault(fullname, []).append(check)

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
    def _is_active(self, check: TypeCheck) -> bool:
        """Hooked only while one of its rules is on (each finding still passes its own rule's gate)."""
        if check.active is not None and not check.active(self.settings):
            return False
        return any(rule_enabled(rule.code, self.settings) for rule in check.rules)

    def report_config_data(self, ctx: ReportConfigContext) -> Any:
        """Every setting: a change to any of them must not reuse findings from mypy's cache."""
        return {
            "orm_lint": __version__,
            "source": SOURCE_FINGERPRINT,
            "settings": settings_document(self.settings),
            "merged_by_check": self.merged_by_check,
            "flake8_twins": syntax_places.twins_flake8_reports(),  # a [flake8] ignore change moves findings
        }

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
        return self._hook(Hook.ATTRIBUTE, fullname)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        return self._hook(Hook.METHOD, fullname)

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return self._hook(Hook.FUNCTION, fullname)

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        return self._hook(Hook.CLASS_ATTRIBUTE, fullname)

    def _hook(self, hook: Hook, fullname: str) -> Callable[[Any], Type] | None:
        checks = self._checks_by_fullname[hook].get(fullname, [])
        members = self._checks_by_member[hook]
        if members:
            owner, _, name = fullname.rpartition(".")
            matching = [c for c in members if c.target.name in (None, name)]  # type: ignore[union-attr]
            if matching and owner and self._is_model_class(owner):
                checks = [*checks, *matching]
        return partial(self._run_checks, hook, fullname, tuple(checks)) if checks else None

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

    def _run_checks(self, hook: Hook, fullname: str, checks: tuple[TypeCheck, ...], ctx: Any) -> Type:
        """The rest of the chain first (its type is the result), then each check, its findings through the gate."""
        following = self._next_hook(ctx.api, hook.value, fullname)
        if following is not None:
            result = following(ctx)
        elif hook in (Hook.ATTRIBUTE, Hook.CLASS_ATTRIBUTE):
            result = ctx.default_attr_type
        else:
            result = ctx.default_return_type
        call = HookCall(ctx, fullname, self.settings, partial(self._function_map, ctx.api))
        for check in checks:
            try:
                if check.once_per_function and not self._first_run_in_function(check, call):
                    continue
                for finding in check.function(call):
                    reporting.report(ctx.api, finding)
            except Exception as error:
                self._internal_error(ctx.api, ctx.context, error)
        return result

    def _first_run_in_function(self, check: TypeCheck, call: HookCall) -> bool:
        function = call.function
        if function is None:
            return False
        swept = self._swept.setdefault(id(function), set())
        if id(check) in swept:
            return False
        swept.add(id(check))
        return True

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
            self._swept.pop(id(evicted), None)
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
