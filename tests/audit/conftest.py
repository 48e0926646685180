"""Fixtures for audit tests: the deviation/dispute world (tests/deviations/world.py)."""

from tests.deviations.world import deployed, frozen, world  # noqa: F401 (fixtures)
