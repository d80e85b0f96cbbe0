"""Fixtures shared by every test package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
VECTORS_FILE = TESTS / "vectors" / "gaen_vectors.json"


@pytest.fixture(scope="session")
def gaen_vectors() -> dict[str, Any]:
    """The GAEN reference vectors (tests/vectors/PROVENANCE.md)."""
    data: dict[str, Any] = json.loads(VECTORS_FILE.read_text())
    return data
