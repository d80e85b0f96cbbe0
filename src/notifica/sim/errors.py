"""The simulator's errors.

    NotificaError
    └── SimError                 anything the simulator refuses or cannot do
        ├── ScenarioError        a scenario file or override is invalid (names the key)
        ├── CollectorStateError  a metric collector used out of its life cycle
        └── ReportError          a report cannot be written (bad metrics, output in the way)

Caller misuse inside the simulator's own API (an array of the wrong length, a negative day)
stays a plain ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

from notifica.errors import NotificaError

__all__ = ["CollectorStateError", "ReportError", "ScenarioError", "SimError"]


class SimError(NotificaError):
    """Base class of the simulator's errors."""


class ScenarioError(SimError):
    """A scenario parameter is unknown, of the wrong type or unit, or out of range.

    Attributes:
        key: the dotted TOML key at fault (``"adoption.overall"``), or ``""`` for the file.
        source: the file the value came from, or ``None`` for defaults and overrides.
    """

    def __init__(self, key: str, message: str, *, source: str | None = None) -> None:
        self.key = key
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}" if key else f"{where}{message}")


class CollectorStateError(SimError):
    """A collector was applied before `initialize`, or after / finalized twice."""


class ReportError(SimError):
    """A report cannot be written: the metrics lack a key it shows, or the output directory
    exists and is not a notifica report (it would be replaced)."""
