"""Demo cases: a year of deviations and two disputes (to be written)."""


def seed_demo_cases() -> str:
    """Create the demo cases; returns a one-line summary for the CLI."""
    return ""
