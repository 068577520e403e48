"""Web framework facts: where request data enters a handler (Django, DRF, Flask, FastAPI, Starlette)."""

from __future__ import annotations

import re

# Names a request object goes by, as a handler parameter or a module-level proxy.
REQUEST_NAMES = frozenset({"request", "req"})

# Modules whose `request` is the current request (Flask's and Quart's context-local proxies).
REQUEST_PROXY_MODULES = ("flask", "quart", "werkzeug", "sanic", "bottle")

# Attributes of a request that hold what the client sent.
REQUEST_DATA_ATTRIBUTES = frozenset(
    {
        # Django
        "GET",
        "POST",
        "COOKIES",
        "META",
        "FILES",
        "headers",
        "body",
        "path",
        "path_info",
        "content_params",
        # Django REST framework
        "data",
        "query_params",
        # Flask / Werkzeug
        "args",
        "form",
        "values",
        "json",
        "cookies",
        "view_args",
        "files",
        "full_path",
        "url",
        # Starlette / FastAPI / aiohttp
        "path_params",
        "match_info",
        "query",
        "rel_url",
    }
)

# Methods of a request that return what the client sent.
REQUEST_DATA_METHODS = frozenset(
    {
        "get_json",
        "get_data",
        "json",
        "form",
        "body",
        "stream",
        "get_full_path",
        "build_absolute_uri",
        "text",
        "post",
    }
)

# Attributes of a class-based view that hold the URL's captured values (Django).
VIEW_URL_ATTRIBUTES = frozenset({"kwargs", "args"})

# Handler parameter annotations that cannot carry SQL text: FastAPI validates them first.
SCALAR_ANNOTATIONS = frozenset(
    {
        "int",
        "float",
        "bool",
        "UUID",
        "uuid.UUID",
        "date",
        "datetime",
        "time",
        "timedelta",
        "Decimal",
        "PositiveInt",
    }
)

# Handler parameters that are not request data: the framework injects them.
INJECTED_DEFAULTS = frozenset({"Depends", "Security", "Inject", "Provide"})
INJECTED_ANNOTATIONS = frozenset(
    {
        "Session",
        "AsyncSession",
        "Connection",
        "AsyncConnection",
        "Engine",
        "Request",
        "HttpRequest",
        "WebSocket",
        "Response",
        "BackgroundTasks",
        "SQLAlchemy",
    }
)

# The values a form or serializer was given (also the name DRF passes them under to `create`/`update`).
SUBMITTED_VALUES = frozenset({"cleaned_data", "validated_data", "initial_data"})
# What a submitted form, formset or serializer holds: items the client sent, however the object was built.
SUBMITTED_DATA_ATTRIBUTES = SUBMITTED_VALUES | frozenset({"deleted_objects", "new_objects", "changed_objects", "forms"})
# Types of a file a client uploaded, in Django, Starlette/FastAPI and Werkzeug/Flask (also inside `list[...]`).
UPLOADED_FILE = re.compile(r"\b(UploadedFile|InMemoryUploadedFile|TemporaryUploadedFile|UploadFile|FileStorage)\b")
