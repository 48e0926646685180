"""Fixtures for dispute tests (defined in tests/deviations/world.py)."""

from tests.deviations.world import deployed, frozen, world  # noqa: F401 (fixtures)
