"""The syntax engine: AST checks, run by flake8 (entry point `ORM`) and by `orm-lint check`."""

from .plugin import Plugin

__all__ = ["Plugin"]
