"""Models of deviations (to be written)."""
