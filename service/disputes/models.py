"""Models of disputes (to be written)."""
