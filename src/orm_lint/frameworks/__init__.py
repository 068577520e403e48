"""What orm-lint knows about the ORMs' APIs, as named constants (no analysis here)."""
