"""Schemathesis's stateful phase: sequences of calls that follow the OpenAPI links.

The document links ``GET /v1/keys/index`` to its oldest and newest batch; with batches
published beforehand, the state machine downloads real batches after random index calls and
random other operations, and every answer must pass the same checks as the stateless run
(`tests/server/test_openapi.py`): no 5xx, nothing outside the document. The budget is
``NOTIFICA_SCHEMATHESIS_EXAMPLES`` (25 in CI, raised by ``scripts/fuzz_long.py``).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from notifica.clock import SimClock
from notifica.protocol import (
    EcdsaSigner,
    UploadRequest,
    otp_bearer_token,
    parse_wire,
    read_export,
)
from notifica.server import Backend, NoSleep, create_app
from notifica.server.signing import signature_info
from tests.server._support import make_otp, upload_body
from tests.server.conftest import START, make_settings
from tests.server.test_openapi import CHECKS

EXAMPLES = int(os.environ.get("NOTIFICA_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture
def backend_with_batches(
    sqlite_template: Path, tmp_path: Path, signing_pem: bytes
) -> Iterator[Backend]:
    database = tmp_path / "notifica.db"
    shutil.copyfile(sqlite_template, database)
    config = make_settings(f"sqlite:///{database}", tmp_path, max_keys_per_batch=5)
    signer = EcdsaSigner.from_pem(signing_pem, signature_info=signature_info(config))
    clock = SimClock(START)
    backend = Backend(config, clock=clock, sleeper=NoSleep(), rng=random.Random(1), signer=signer)
    backend.his.add_client("schemathesis")
    rng = random.Random(2)
    for _ in range(3):
        otp = make_otp(rng)
        backend.authorise_otp(otp, clock.now().date() - timedelta(days=12))
        request = parse_wire(
            UploadRequest, upload_body(clock.now(), rng=rng), today=clock.now().date()
        )
        backend.ingestion.upload(otp_bearer_token(otp), request)
    assert len(backend.publish().batches) >= 6
    yield backend
    backend.repository.close()


@pytest.mark.slow
def test_linked_call_sequences_stay_within_the_document(backend_with_batches: Backend) -> None:
    backend = backend_with_batches
    app = create_app(backend.settings, backend=backend)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    downloaded: list[int] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response, case, **kwargs):  # type: ignore[no-untyped-def]
            if case.path == "/v1/keys/{batch_index}" and response.status_code == 200:
                read_export(response.content)
                downloaded.append(int(case.path_parameters["batch_index"]))
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert downloaded, "the links never led to a real batch"
