"""Choosing the backend: auto, forced by the environment, required in CI."""

from __future__ import annotations

import os

import pytest

from notifica.matching import (
    BackendUnavailable,
    NativeBackend,
    PythonBackend,
    backend_info,
    get_backend,
)
from notifica.matching._native import load_kernel


def test_native_backend_is_active_when_ci_requires_it() -> None:
    info = backend_info()
    if os.environ.get("NOTIFICA_REQUIRE_NATIVE") == "1":
        assert info["backend"] == "native", f"native matcher required but inactive: {info}"
        assert isinstance(get_backend(), NativeBackend)
    elif info["backend"] != "native":
        pytest.skip(f"native matcher inactive here: {info['reason']}")


def test_python_is_always_available() -> None:
    assert isinstance(get_backend("python"), PythonBackend)
    assert backend_info("python")["backend"] == "python"


def test_environment_forces_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICA_MATCHING_BACKEND", "python")
    assert isinstance(get_backend(), PythonBackend)
    info = backend_info()
    assert info["backend"] == "python"
    assert "NOTIFICA_MATCHING_BACKEND=python" in info["reason"]
    with pytest.raises(BackendUnavailable, match="disabled by NOTIFICA_MATCHING_BACKEND=python"):
        get_backend("native")


@pytest.mark.parametrize("value", ["fast", "pure "])
def test_bad_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NOTIFICA_MATCHING_BACKEND", value)
    with pytest.raises(ValueError, match="NOTIFICA_MATCHING_BACKEND must be one of"):
        get_backend()


def test_bad_backend_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFICA_MATCHING_BACKEND", raising=False)
    with pytest.raises(ValueError, match="backend must be one of auto, python, native; got 'gpu'"):
        get_backend("gpu")


def test_info_describes_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFICA_MATCHING_BACKEND", raising=False)
    info = backend_info()
    assert set(info) == {
        "backend",
        "reason",
        "requested",
        "cpu",
        "kernel_built",
        "kernel_error",
        "aes",
        "sha",
    }
    if load_kernel() is None:
        assert info["backend"] == "python"
        assert info["kernel_error"]
        with pytest.raises(BackendUnavailable):
            get_backend("native")
    else:
        assert info["kernel_built"]
        assert info["kernel_error"] is None
        assert info["aes"] in ("aes-ni", "portable")
        assert info["sha"] in ("sha-ni", "portable")
        assert isinstance(info["cpu"]["aes"], bool)
        assert (info["backend"] == "native") == (info["aes"] == "aes-ni")
        assert isinstance(get_backend("native"), NativeBackend)


def test_native_backend_arguments_are_checked() -> None:
    if load_kernel() is None:
        with pytest.raises(BackendUnavailable, match="does not load"):
            NativeBackend()
        return
    with pytest.raises(ValueError, match="threads must be at least 1"):
        NativeBackend(threads=0)
    with pytest.raises(ValueError, match="chunk_keys must be at least 1"):
        NativeBackend(chunk_keys=0)
