"""Notifications: an outbox of in-app messages, delivered by e-mail outside the workflow transaction."""
