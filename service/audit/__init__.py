"""The audit log: ``record()`` in every operation, ``verify()`` from the CLI."""

from service.audit.operations import record
from service.audit.verification import verify

__all__ = ["record", "verify"]
