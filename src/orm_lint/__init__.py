"""orm-lint: find database and ORM problems in application code before production does."""

__version__ = "0.1.0"
