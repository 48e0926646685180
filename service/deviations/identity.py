"""The identity-number guard moved to service/security/personal_data.py (one guard for every text written)."""

from __future__ import annotations

from service.security.personal_data import Finding, find_identity_numbers, refuse_identity_numbers

__all__ = ["Finding", "find_identity_numbers", "refuse_identity_numbers"]
