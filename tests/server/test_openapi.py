"""The OpenAPI document is accurate: schemathesis finds no 5xx and no undocumented response.

The API contract does not depend on the engine, so this runs on SQLite only.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from notifica.clock import SimClock
from notifica.protocol import EcdsaSigner
from notifica.server import Backend, NoSleep, create_app
from notifica.server.signing import signature_info
from tests.server.conftest import START, make_settings


@pytest.fixture
def api_schema(
    sqlite_template: Path, tmp_path: Path, signing_pem: bytes
) -> Iterator[schemathesis.BaseSchema]:
    database = tmp_path / "notifica.db"
    shutil.copyfile(sqlite_template, database)
    config = make_settings(f"sqlite:///{database}", tmp_path)
    signer = EcdsaSigner.from_pem(signing_pem, signature_info=signature_info(config))
    backend = Backend(
        config, clock=SimClock(START), sleeper=NoSleep(), rng=random.Random(1), signer=signer
    )
    backend.his.add_client("schemathesis")
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(config, backend=backend))
    backend.repository.close()


EXAMPLES = int(os.environ.get("NOTIFICA_SCHEMATHESIS_EXAMPLES", "25"))
"""Per operation; ``scripts/fuzz_long.py`` raises it."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
"""No 5xx, only documented statuses, content types, headers and bodies, and schema-invalid
requests refused. (Schema-valid requests may still be refused: dates must lie in a window
relative to today and OTPs need a check character, which JSON Schema cannot say.)"""


@pytest.mark.slow
def test_api_matches_its_openapi_document(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
