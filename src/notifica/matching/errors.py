"""Errors of the matching layer.

    MatchingError                   base of everything below (under notifica.NotificaError)
    └── BackendUnavailable          the backend asked for cannot run here (says why)

A caller's own mistake (observations of the wrong length, a batch too large for one derived
table, a non-contiguous buffer given to the kernel) is a plain ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

from notifica.errors import NotificaError

__all__ = ["BackendUnavailable", "MatchingError"]


class MatchingError(NotificaError):
    """Base class of the matching layer's errors."""


class BackendUnavailable(MatchingError):
    """The requested matching backend cannot be used on this machine or build."""
