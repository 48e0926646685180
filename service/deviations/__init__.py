"""Deviations in the collaboration (avvikelser i samverkan) and their analysis."""
