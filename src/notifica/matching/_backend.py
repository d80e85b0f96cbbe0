"""Choosing a matching backend: the native kernel where it helps, pure Python otherwise.

``get_backend("auto")`` picks the native kernel when it was built, loads, and the CPU has the
AES instructions; without AES-NI the kernel's portable AES is slower than the pure path (which
uses OpenSSL through `cryptography`), so the pure path is chosen. The environment variable
``NOTIFICA_MATCHING_BACKEND`` (``auto`` | ``python`` | ``native``) overrides the choice for the
whole process: with ``python``, even an explicit request for the native backend is refused, so
a test run with it set exercises the fallback everywhere.
"""

from __future__ import annotations

import os
from typing import Literal, Protocol, TypedDict

from notifica.matching._native import NativeBackend, kernel_import_error, load_kernel
from notifica.matching._python import Direction, PythonBackend
from notifica.matching._types import DerivedIdentifiers, Match, Observations
from notifica.matching.errors import BackendUnavailable
from notifica.protocol import DiagnosisKeyBatch

__all__ = [
    "BACKEND_ENV",
    "BackendInfo",
    "BackendName",
    "CpuInfo",
    "MatchBackend",
    "available_backends",
    "backend_info",
    "get_backend",
]

BACKEND_ENV = "NOTIFICA_MATCHING_BACKEND"
"""Environment variable that forces the backend choice (``auto``, ``python`` or ``native``)."""

BackendName = Literal["auto", "python", "native"]
_NAMES: tuple[BackendName, ...] = ("auto", "python", "native")


class MatchBackend(Protocol):
    """Derives identifiers of many keys and matches them against a phone's sightings.

    Every backend returns identical results (the contract test checks it); they differ only
    in speed.
    """

    @property
    def name(self) -> str: ...

    def derive(self, batch: DiagnosisKeyBatch) -> DerivedIdentifiers:
        """All 144 RPIs of every key, derived once and shareable by many phones."""
        ...

    def match(
        self,
        derived: DerivedIdentifiers,
        observations: Observations,
        *,
        direction: Direction = "auto",
    ) -> list[Match]:
        """Valid matches of one phone's sightings against shared identifiers, sorted."""
        ...

    def match_batch(self, batch: DiagnosisKeyBatch, observations: Observations) -> list[Match]:
        """Derive and match in one pass for one phone, in bounded memory, sorted."""
        ...


class CpuInfo(TypedDict):
    """CPU features the kernel detected (None when the kernel does not load to ask)."""

    aes: bool | None
    sha: bool | None


class BackendInfo(TypedDict):
    """What `notifica matching info --json` prints."""

    backend: Literal["python", "native"]
    reason: str
    requested: str
    cpu: CpuInfo
    kernel_built: bool
    kernel_error: str | None
    aes: Literal["aes-ni", "portable"] | None
    sha: Literal["sha-ni", "portable"] | None


def _requested(name: str) -> BackendName:
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced and forced not in _NAMES:
        raise ValueError(f"{BACKEND_ENV} must be one of auto, python, native; got {forced!r}")
    if name not in _NAMES:
        raise ValueError(f"backend must be one of auto, python, native; got {name!r}")
    if forced == "python" and name == "native":
        raise BackendUnavailable(f"the native backend is disabled by {BACKEND_ENV}=python")
    if forced in ("python", "native") and name == "auto":
        return "python" if forced == "python" else "native"
    return "python" if name == "python" else "native" if name == "native" else "auto"


def backend_info(name: str = "auto") -> BackendInfo:
    """Which backend `get_backend(name)` gives here, and why.

    Raises:
        ValueError: for an unknown name (or value of ``NOTIFICA_MATCHING_BACKEND``).
    """
    kernel = load_kernel()
    features = kernel.cpu_features() if kernel is not None else None
    info = BackendInfo(
        backend="python",
        reason="",
        requested=os.environ.get(BACKEND_ENV) or name,
        cpu=CpuInfo(
            aes=None if features is None else bool(features["aes"]),
            sha=None if features is None else bool(features["sha"]),
        ),
        kernel_built=kernel is not None,
        kernel_error=kernel_import_error(),
        aes=None,
        sha=None,
    )
    if features is not None:
        info["aes"] = "aes-ni" if features["aes_kernel"] else "portable"
        sha_ni = features["x86_kernels"] and features["sha"] and features["sse41"]
        info["sha"] = "sha-ni" if sha_ni and features["ssse3"] else "portable"
    try:
        requested = _requested(name)
    except BackendUnavailable as exc:
        info["reason"] = str(exc)
        return info
    if requested == "python":
        info["reason"] = (
            f"forced by {BACKEND_ENV}=python" if os.environ.get(BACKEND_ENV) else "requested"
        )
    elif kernel is None:
        info["reason"] = f"the native kernel is not available: {info['kernel_error']}"
        if requested == "native":
            info["reason"] += " (native was requested: get_backend raises BackendUnavailable)"
    elif requested == "native":
        info["backend"], info["reason"] = "native", "requested"
    elif info["aes"] != "aes-ni":
        info["reason"] = (
            "the CPU lacks AES instructions the kernel can use; its portable AES is slower "
            "than the pure path's OpenSSL"
        )
    else:
        info["backend"] = "native"
        info["reason"] = f"kernel built, AES-NI present, SHA-256 via {info['sha']}"
    return info


def get_backend(name: str = "auto") -> MatchBackend:
    """The matching backend `name` (``auto``, ``python`` or ``native``).

    Raises:
        ValueError: for an unknown name (or value of ``NOTIFICA_MATCHING_BACKEND``).
        BackendUnavailable: if ``native`` is requested but not built, not loadable, or
            disabled by ``NOTIFICA_MATCHING_BACKEND=python``.
    """
    requested = _requested(name)
    if requested == "native":
        return NativeBackend()
    if requested == "python":
        return PythonBackend()
    return NativeBackend() if backend_info(name)["backend"] == "native" else PythonBackend()


def available_backends() -> list[MatchBackend]:
    """Every backend usable here, for contract tests and benchmarks.

    The pure backend always; the native one with its accelerated paths and with its portable C
    paths, unless the kernel is missing or ``NOTIFICA_MATCHING_BACKEND=python``.
    """
    backends: list[MatchBackend] = [PythonBackend()]
    if load_kernel() is None or os.environ.get(BACKEND_ENV, "").strip().lower() == "python":
        return backends
    backends.append(NativeBackend())
    backends.append(NativeBackend(accelerated=False))
    return backends
