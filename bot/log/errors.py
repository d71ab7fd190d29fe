"""Errors any log store may raise, so that callers need not know which store they have."""

from __future__ import annotations


class SchemaTooNew(RuntimeError):
    """The database was written by a newer membrane-tutor: refuse it rather than damage it."""


class StoreUnavailable(RuntimeError):
    """The store is not open (never opened, closed, or it could not be opened again)."""
