"""Fixtures for joint-body tests (the deviation/dispute world of tests/deviations/world.py)."""

from tests.deviations.world import deployed, frozen, world  # noqa: F401 (fixtures)
