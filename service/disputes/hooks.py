"""Ties the disputes process to its records."""


def register() -> None:
    """Register this package's process hooks (none yet)."""
