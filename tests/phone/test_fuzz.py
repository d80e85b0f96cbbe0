"""Whatever the server sends, a detection reports it and never raises (h11's fuzz idea)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifica.clock import SimClock

from .support import START, ScriptedBackend, make_phone, signed_batch

GOOD = signed_batch([])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _mutations() -> st.SearchStrategy[bytes]:
    flips = st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), max_size=6)
    flipped = flips.map(
        lambda changes: bytes(b ^ dict(changes).get(i, 0) for i, b in enumerate(GOOD))
    )
    truncated = st.integers(0, len(GOOD)).map(lambda n: GOOD[:n])
    return flipped | truncated | st.binary(max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    settings_body=json_values,
    index_body=json_values,
    batch=_mutations(),
)
def test_detection_survives_any_answer(settings_body: Any, index_body: Any, batch: bytes) -> None:
    clock = SimClock(START)
    backend = ScriptedBackend()

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v1/settings":
            return httpx.Response(200, content=json.dumps(settings_body).encode())
        if request.url.path == "/v1/keys/index" and not isinstance(index_body, dict):
            return httpx.Response(200, content=json.dumps(index_body).encode())
        return None

    backend.fault = fault
    backend.batches[1] = batch
    phone = make_phone(backend, clock)
    report = asyncio.run(phone.detect())
    assert report.problems or report.batches_processed == (1,)
    assert phone.status().detection_problems == report.problems
