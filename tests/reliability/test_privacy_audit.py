"""Privacy audit after a simulated month of phones talking to the real backend.

Phones of the phone engine run on one simulated clock against the in-process backend: they
roll keys, detect, send dummy traffic and operational info, and some report positive
through the OTP flow (uploads with their exposure summaries). Every request carries what a
real deployment would hand the backend: a proxy's ``X-Forwarded-For`` (trusted, it feeds the
rate limit) and a ``User-Agent`` naming the device model. Afterwards the auditor
(`tests.reliability._audit`) reads every table and column, every server log record and
every stored batch, and must find no address, user agent or device model (in clear or as a
SHA-256), no citizen time finer than the hour, and no value shared by an upload and an
analytics record. A second test plants an address and a shared value to show the audit
can fail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from notifica.clock import SimClock
from notifica.phone import (
    CalibrationConfidence,
    DeviceCalibration,
    Endpoints,
    MemoryStore,
    Phone,
    TestCaAttestation,
    make_test_attestation_ca,
)
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, JwsAttestationVerifier, NoSleep, Settings, create_app
from notifica.server.signing import signature_info
from tests.phone.support import ALL_PERMISSIONS, START
from tests.reliability._audit import (
    ANALYTICS_TABLES,
    IPV4,
    UPLOAD_TABLES,
    coarse_time_violations,
    database_haystacks,
    dump_database,
    find_leaks,
    identifier_values,
    log_texts,
    needles_for,
)
from tests.server._support import ingestion_headers, make_otp

BASE = "http://immuni.test"
DEVICES = [
    ("93.34.112.7", "SM-G975F", "Android 10", "QP1A.190711.020"),
    ("151.38.201.44", "Redmi Note 8 Pro", "Android 11", "RP1A.200720.011"),
    ("2.37.148.9", "Pixel 4a", "Android 12", "SP1A.210812.016"),
    ("79.18.66.130", "moto g(8) power", "Android 10", "QPES30.79-124-7"),
    ("2a01:e11:5:3b0::4f", "ONEPLUS A6013", "Android 11", "RKQ1.201217.002"),
    ("37.160.3.251", "HUAWEI P30 lite", "Android 10", "HUAWEIMAR-L21A"),
]
POSITIVE = {1: 4, 4: 11, 5: 19, 2: 29}
"""Phone number → day of the month on which it reports positive (the last one's keys are
still pending at the audit: no publish on the last day)."""


def user_agent(model: str, android: str, build: str) -> str:
    return f"Immuni/1.4.3 (Linux; {android}; {model} Build/{build}) okhttp/3.14.9"


class Proxied(httpx.AsyncBaseTransport):
    """What the TLS proxy adds: the phone's address; and what the phone's stack sends."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, headers: dict[str, str], seen: Counter[str]
    ):
        self._inner = inner
        self._headers = headers
        self._seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers.update(self._headers)
        dummy = request.headers.get("Immuni-Dummy-Data") == "1"
        self._seen[f"{request.url.path}{' (dummy)' if dummy else ''}"] += 1
        return await self._inner.handle_async_request(request)


@dataclass
class Month:
    tmp_path: Path
    url: str
    clock: SimClock = field(default_factory=lambda: SimClock(START))
    seen: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.settings = Settings(
            data_dir=self.tmp_path,
            database_url=self.url,
            generate_signing_key=False,
            client_address_header="X-Forwarded-For",
        )
        signer = EcdsaSigner.from_pem(
            generate_signing_key_pem(), signature_info=signature_info(self.settings)
        )
        self.ca = make_test_attestation_ca(now=self.clock.now() - timedelta(days=1))
        verifier = JwsAttestationVerifier(
            roots=[x509.load_pem_x509_certificate(self.ca.ca_certificate_pem)],
            hostname="attest.android.com",
            package_name="it.ministerodellasalute.immuni",
            apk_digests=["test-digest"],
            max_skew_s=600,
        )
        self.backend = Backend(
            self.settings, clock=self.clock, signer=signer, sleeper=NoSleep(),
            rng=random.Random(0), attestation=verifier,
        )  # fmt: skip
        self.app = create_app(self.settings, backend=self.backend)
        self.public_keys = {
            (
                signer.signature_info.verification_key_id,
                signer.signature_info.verification_key_version,
            ): signer.public_key_pem()
        }
        self.clients: list[httpx.AsyncClient] = []
        self.phones: list[Phone] = []
        for number, (address, model, android, build) in enumerate(DEVICES):
            headers = {
                "X-Forwarded-For": f"10.12.0.4, {address}",
                "User-Agent": user_agent(model, android, build),
            }
            transport = Proxied(httpx.ASGITransport(app=self.app), headers, self.seen)
            client = httpx.AsyncClient(transport=transport)
            self.clients.append(client)
            phone = Phone(
                clock=self.clock,
                store=MemoryStore(),
                device=DeviceCalibration(
                    oem="various",
                    device=model.lower().replace(" ", "_"),
                    model=model,
                    rssi_correction_db=0,
                    tx_power_dbm=-30,
                    calibration_confidence=CalibrationConfidence.HIGH,
                ),
                http=client,
                endpoints=Endpoints.single(BASE),
                public_keys=self.public_keys,
                rng=random.Random(number),
                attestation=TestCaAttestation(self.ca, apk_certificate_digest="test-digest"),
            )
            phone.onboard(age_confirmed=True, province="RM", permissions=ALL_PERMISSIONS)
            self.phones.append(phone)

    async def run(self, days: int) -> None:
        for day in range(days):
            for number, phone in enumerate(self.phones):
                if POSITIVE.get(number) == day:
                    shown = phone.report_positive()
                    self.backend.authorise_otp(shown.replace("-", ""), self.clock.now().date())
                    await phone.verify_otp()
                    await phone.upload_keys()
            for _ in range(12):
                for phone in self.phones:
                    await phone.tick()
                self.clock.advance(timedelta(hours=2))
            if day < days - 1:
                self.backend.publish()
        for client in self.clients:
            await client.aclose()
        await self.backend.analytics.drain()


@pytest.mark.slow
def test_a_month_of_traffic_leaves_no_identifier_behind(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    month = Month(tmp_path, database_url)
    asyncio.run(month.run(30))
    metrics = asyncio.run(_metrics(month))
    month.backend.repository.close()

    print(dict(month.seen))
    assert month.seen["/v1/ingestion/upload"] == len(POSITIVE)
    assert sum(n for path, n in month.seen.items() if path.endswith("(dummy)")) >= 10
    assert month.seen["/v1/analytics/google/operational-info"] >= 3

    dump = dump_database(month.url)
    print({table: len(rows) for table, rows in dump.items()})
    assert len(dump["upload_log"]) == len(POSITIVE)
    for table in ("batches", "exposure_payloads", "operational_info", "pending_keys", "used_salts"):
        assert dump[table], f"{table} is empty: the audit would prove nothing about it"

    needles: dict[str, bytes] = {}
    for address, model, android, build in DEVICES:
        needles |= needles_for(f"address {address}", address)
        needles |= needles_for(f"user agent of {model}", user_agent(model, android, build))
        needles |= needles_for(f"device model {model}", model)
        needles |= needles_for(f"build {build}", build)
    needles |= needles_for("proxy address", "10.12.0.4")
    needles |= needles_for("app version", "Immuni/1.4.3")

    haystacks = [
        *database_haystacks(dump),
        *log_texts(caplog.records),
        ("GET /metrics", metrics),
    ]
    assert find_leaks(haystacks, needles) == []
    assert coarse_time_violations(dump) == []
    uploads = identifier_values(dump, UPLOAD_TABLES)
    analytics = identifier_values(dump, ANALYTICS_TABLES)
    shared = {
        value: (uploads[value], analytics[value]) for value in uploads.keys() & analytics.keys()
    }
    assert shared == {}


async def _metrics(month: Month) -> bytes:
    transport = httpx.ASGITransport(app=month.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        return (await client.get("/metrics")).content


def test_the_audit_finds_a_planted_address_and_a_shared_value() -> None:
    dump = {
        "pending_keys": [{"id": 1, "key_data": b"k" * 16, "received_at": START}],
        "exposure_payloads": [
            {"id": 1, "exposure_detection_summaries": [{"note": "tok-12345678"}]}
        ],
        "operational_info": [{"id": 1, "build": 5, "platform": "android", "note": "tok-12345678"}],
    }
    record = logging.makeLogRecord(
        {"name": "notifica.server", "levelname": "INFO", "msg": "from %s", "args": ("93.34.112.7",)}
    )
    leaks = find_leaks(
        [*database_haystacks(dump), *log_texts([record])], needles_for("address", "151.38.201.44")
    )
    assert [leak.where for leak in leaks] == ["log notifica.server:INFO"]
    dump["operational_info"][0]["note"] = "seen from 151.38.201.44"
    assert {leak.what for leak in find_leaks(database_haystacks(dump), {})} == {
        "IPv4 151.38.201.44"
    }
    assert identifier_values(dump, UPLOAD_TABLES).keys() & identifier_values(
        {**dump, "operational_info": [{"note": "tok-12345678"}]}, ANALYTICS_TABLES
    ).keys() == {b"tok-12345678"}
    dump["pending_keys"][0]["received_at"] = START.replace(minute=7)
    assert coarse_time_violations(dump) == [f"pending_keys.received_at = {START.replace(minute=7)}"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_notifica_serve_prints_no_address_or_user_agent(tmp_path: Path) -> None:
    """The real server's own output (uvicorn with the default logging of ``serve``):
    requests of every outcome, each with a proxy address and a user agent, leave neither
    behind. One worker: the logging set-up is the same with more."""
    port = _free_port()
    env = {
        **os.environ,
        "NOTIFICA_DATA_DIR": str(tmp_path),
        "NOTIFICA_RUN_JOBS_IN_PROCESS": "false",
        "NOTIFICA_CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
    }
    env.pop("NOTIFICA_DATABASE_URL", None)
    output = tmp_path / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "notifica"), "serve", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            statuses = asyncio.run(_visit(f"http://127.0.0.1:{port}"))
        finally:
            process.terminate()
            process.wait(timeout=30)
    printed = output.read_bytes()
    assert b"Uvicorn running" in printed or b"Started server process" in printed, printed[:500]
    assert {200, 204, 400, 401, 404, 413} <= set(statuses), statuses
    needles: dict[str, bytes] = {}
    for address, model, android, build in DEVICES:
        needles |= needles_for(f"address {address}", address)
        needles |= needles_for(f"user agent of {model}", user_agent(model, android, build))
    leaks = find_leaks([("notifica serve output", printed)], needles, addresses=False)
    assert leaks == []
    # 127.0.0.1 (the listening address) is printed at start-up; no other address may be,
    # and no access-log line (``peer:port - "GET …``), whose peer is a citizen without a proxy.
    assert {m for m in IPV4.findall(printed)} <= {b"127.0.0.1", b"0.0.0.0"}
    assert re.search(rb':\d+ - "(GET|POST) ', printed) is None


async def _visit(base: str) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for _ in range(150):
            try:
                await client.get("/")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        for number, (address, model, android, build) in enumerate(DEVICES):
            headers = {
                "X-Forwarded-For": f"10.12.0.4, {address}",
                "User-Agent": user_agent(model, android, build),
            }
            otp = make_otp(random.Random(number))
            calls = [
                client.get("/v1/settings?platform=android&build=1", headers=headers),
                client.get("/v1/keys/index", headers=headers),
                client.get("/v1/keys/7", headers=headers),
                client.post(
                    "/v1/ingestion/check-otp", content=b'{"padding": ""}',
                    headers={**headers, **ingestion_headers(otp)},
                ),
                client.post(
                    "/v1/ingestion/upload", content=b'{"padding": ""}',
                    headers={**headers, **ingestion_headers(otp, dummy=True)},
                ),
                client.post("/v1/ingestion/upload", content=b"{", headers=headers),
                client.post(
                    "/v1/ingestion/upload", content=b"0" * 300_000,
                    headers={**headers, **ingestion_headers(otp)},
                ),
            ]  # fmt: skip
            statuses += [(await call).status_code for call in calls]
    return statuses
