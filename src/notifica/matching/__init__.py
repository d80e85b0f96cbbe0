"""Matching diagnosis keys against a phone's sightings: derive once, share, look up (layer 2).

GAEN matching (protocol.md §11, §15): derive the 144 RPIs of every published key, look them
up among the identifiers a phone has seen, and keep the hits that GAEN's validity rules allow
(only the first ``rolling_period`` RPIs of a key; a sighting within ±2 h of the RPI's
interval). Two backends give identical results: a pure-Python one (the reference and the
fallback) and a C kernel with AES-NI / SHA-NI; `get_backend()` picks one, `backend_info()`
says which and why.

Shapes of use:

- one phone, some export files: ``match_exports(files, observations)``;
- many phones, the same keys (the simulator): ``derived = backend.derive(batch)`` once, then
  ``backend.match(derived, observations)`` per phone, at a cost proportional to that phone's
  sightings;
- one phone, a batch it will not share: ``backend.match_batch(batch, observations)``.
"""

from notifica.matching._backend import (
    BACKEND_ENV,
    BackendInfo,
    BackendName,
    CpuInfo,
    MatchBackend,
    available_backends,
    backend_info,
    get_backend,
)
from notifica.matching._exports import KeyBatchSource, match_exports
from notifica.matching._native import NativeBackend
from notifica.matching._python import PURE_INDEX_MAX_RPIS, Direction, PythonBackend
from notifica.matching._types import (
    CLOCK_DRIFT_INTERVALS,
    MAX_DERIVED_KEYS,
    RPIS_PER_KEY,
    DerivedIdentifiers,
    Match,
    MatchedKey,
    Observations,
)
from notifica.matching.errors import BackendUnavailable, MatchingError

__all__ = [
    "BACKEND_ENV",
    "CLOCK_DRIFT_INTERVALS",
    "MAX_DERIVED_KEYS",
    "PURE_INDEX_MAX_RPIS",
    "RPIS_PER_KEY",
    "BackendInfo",
    "BackendName",
    "BackendUnavailable",
    "CpuInfo",
    "DerivedIdentifiers",
    "Direction",
    "KeyBatchSource",
    "Match",
    "MatchBackend",
    "MatchedKey",
    "MatchingError",
    "NativeBackend",
    "Observations",
    "PythonBackend",
    "available_backends",
    "backend_info",
    "get_backend",
    "match_exports",
]
