"""Disputes (tvister) and their escalation levels."""
