"""Fixtures for deviation tests (shared with tests/disputes)."""

from tests.deviations.world import deployed, frozen, world  # noqa: F401 (fixtures)
