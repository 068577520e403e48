"""Django ORM API facts."""

from __future__ import annotations

# Attributes of a model class that return a manager.
MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager", "all_objects"})

# QuerySet methods that return another lazy QuerySet.
LAZY_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "reverse",
        "distinct",
        "annotate",
        "alias",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "using",
        "select_for_update",
        "none",
        "union",
        "intersection",
        "difference",
        "extra",
        "values",
        "values_list",
        "dates",
        "datetimes",
    }
)

# Methods that send a query when called (on a manager, a queryset or a related manager).
EVALUATING_METHODS = frozenset(
    {
        "get",
        "first",
        "last",
        "exists",
        "count",
        "aggregate",
        "latest",
        "earliest",
        "in_bulk",
        "contains",
        "explain",
    }
)
WRITE_METHODS = frozenset({"create", "update", "delete", "get_or_create", "update_or_create"})
# Writes on one model instance.
INSTANCE_WRITE_METHODS = frozenset({"save", "delete", "refresh_from_db"})

# Methods after which items are not model instances (no relation to follow).
NON_ENTITY_METHODS = frozenset({"values", "values_list", "in_bulk", "aggregate", "dates", "datetimes"})

PREFETCH_CLASS = "Prefetch"
LOOKUP_SEPARATOR = "__"
REVERSE_MANAGER_SUFFIX = "_set"

PAGINATOR_NAMES = frozenset({"Paginator", "paginate_queryset", "get_page", "page"})
VIEW_DECORATORS = frozenset(
    {"api_view", "require_GET", "require_POST", "require_http_methods", "require_safe", "action"}
)
LIST_VIEW_BASES = frozenset({"ListView", "ListAPIView", "ListCreateAPIView", "ModelViewSet", "ReadOnlyModelViewSet"})
RANDOM_ORDER = "?"
# Keyword arguments of get_or_create()/update_or_create() that set values rather than select rows.
NOT_CONDITIONS = frozenset({"defaults", "create_defaults"})

# Relations of django.contrib's models (attribute -> (target model, is a collection)), for projects
# that use them without declaring their own: `user.groups`, `permission.content_type`.
CONTRIB_RELATIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "User": {"groups": ("Group", True), "user_permissions": ("Permission", True)},
    "Group": {"permissions": ("Permission", True), "user_set": ("User", True)},
    "Permission": {"content_type": ("ContentType", False), "group_set": ("Group", True), "user_set": ("User", True)},
    "ContentType": {},
}
