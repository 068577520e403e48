"""Fully qualified names the mypy plugin matches types against."""

from __future__ import annotations

DJANGO_MODEL = "django.db.models.base.Model"
DJANGO_RELATED_MANAGERS = frozenset(
    {
        "django.db.models.fields.related_descriptors.RelatedManager",
        "django.db.models.fields.related_descriptors.ManyRelatedManager",
    }
)
SQLALCHEMY_BASES = frozenset(
    {
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
        "flask_sqlalchemy.model.Model",
    }
)
SQLMODEL_BASE = "sqlmodel.main.SQLModel"
MODEL_BASES = SQLALCHEMY_BASES | {SQLMODEL_BASE, DJANGO_MODEL}
RELATIONSHIP_PROPERTY = "sqlalchemy.orm.relationships.RelationshipProperty"
COLLECTIONS = frozenset({"builtins.list", "builtins.set", "builtins.dict", "typing.Sequence", "typing.Collection"})

# mypy plugin module names, to check the order users list them in.
DJANGO_STUBS_PLUGIN = "mypy_django_plugin.main"
ORM_LINT_PLUGIN = "orm_lint.mypy_plugin"
