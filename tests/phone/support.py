"""Helpers for the phone tests: a scripted Immuni backend behind ``httpx.MockTransport``.

`ScriptedBackend` answers settings, index and batch downloads from what a test puts in it,
accepts check-otp/upload like Immuni (401 for an unknown token), and measures every request
as h11 would write it. It stands in for the server only in unit tests; the end-to-end tests
use the real app (``notifica.server.create_app``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import h11
import httpx

from notifica.clock import SimClock
from notifica.phone import (
    DetectionCache,
    DeviceCalibration,
    Endpoints,
    MemoryStore,
    Permissions,
    Phone,
    PhoneStore,
)
from notifica.protocol import (
    IMMUNI_SIGNATURE_INFO,
    EcdsaSigner,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    generate_signing_key_pem,
    otp_bearer_token,
    public_key_pem,
    write_export_zip,
)

BASE = "https://immuni.test"
START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
DEVICE = DeviceCalibration(
    oem="Google",
    device="flame",
    model="Pixel 4",
    rssi_correction_db=0,
    tx_power_dbm=-30,
    calibration_confidence=3,
)
ALL_PERMISSIONS = Permissions(exposure_notifications=True, bluetooth=True, notifications=True)
SIGNING_PEM = generate_signing_key_pem()
SIGNER = EcdsaSigner.from_pem(SIGNING_PEM, signature_info=IMMUNI_SIGNATURE_INFO)
PUBLIC_KEYS = {("222", "v1"): public_key_pem(SIGNING_PEM)}


def h11_size(request: httpx.Request) -> int:
    connection = h11.Connection(h11.CLIENT)
    head = connection.send(
        h11.Request(
            method=request.method, target=request.url.raw_path, headers=list(request.headers.raw)
        )
    )
    body = connection.send(h11.Data(data=request.content)) if request.content else b""
    return len(head or b"") + len(body or b"")


def signed_batch(keys: list[TemporaryExposureKey], *, signer: EcdsaSigner = SIGNER) -> bytes:
    ordered = tuple(sorted(keys, key=lambda k: k.key_data))
    export = TemporaryExposureKeyExport(
        start_timestamp=1_700_000_000, end_timestamp=1_700_003_600, region="222", keys=ordered
    )
    return write_export_zip(export, [signer])


@dataclass
class ScriptedBackend:
    """A programmable Immuni backend for `httpx.MockTransport`."""

    settings: dict[str, Any] = field(default_factory=dict)
    batches: dict[int, bytes] = field(default_factory=dict)
    index_override: dict[str, int] | None = None
    authorised: set[str] = field(default_factory=set)
    fault: Callable[[httpx.Request], httpx.Response | None] | None = None
    requests: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    batch_downloads: list[int] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(
            (request.method, path, h11_size(request), dict(request.headers.items()))
        )
        if self.fault is not None:
            answer = self.fault(request)
            if answer is not None:
                return answer
        if path == "/v1/settings":
            return httpx.Response(200, json=self.settings)
        if path == "/v1/keys/index":
            if self.index_override is not None:
                return httpx.Response(200, json=self.index_override)
            if not self.batches:
                return httpx.Response(404, json={"error_code": 1301, "message": "No batches"})
            return httpx.Response(
                200, json={"oldest": min(self.batches), "newest": max(self.batches)}
            )
        if path.startswith("/v1/keys/"):
            index = int(path.rsplit("/", 1)[1])
            self.batch_downloads.append(index)
            if index not in self.batches:
                return httpx.Response(404, json={"error_code": 1300})
            return httpx.Response(200, content=self.batches[index])
        if path.startswith("/v1/ingestion/"):
            token = request.headers["authorization"].removeprefix("Bearer ")
            if request.headers["immuni-dummy-data"] == "1":
                return httpx.Response(204)
            if token not in self.authorised:
                return httpx.Response(401, json={"error_code": 1101})
            if path.endswith("/upload"):
                self.authorised.discard(token)
                self.uploads.append(json.loads(request.content))
            return httpx.Response(204)
        if path.startswith("/v1/analytics/"):
            return httpx.Response(204)
        return httpx.Response(404)

    def authorise(self, shown_otp: str) -> None:
        self.authorised.add(otp_bearer_token(shown_otp.replace("-", "")))

    def ingestion(self) -> list[tuple[str, str, int, dict[str, str]]]:
        return [r for r in self.requests if r[1].startswith("/v1/ingestion/")]


def make_phone(
    backend: ScriptedBackend,
    clock: SimClock,
    *,
    store: PhoneStore | None = None,
    seed: int = 1,
    cache: DetectionCache | None = None,
    onboard: bool = True,
    **options: Any,
) -> Phone:
    client = httpx.AsyncClient(transport=httpx.MockTransport(backend))
    phone = Phone(
        clock=clock,
        store=store if store is not None else MemoryStore(),
        device=DEVICE,
        http=client,
        endpoints=Endpoints.single(BASE),
        public_keys=PUBLIC_KEYS,
        rng=random.Random(seed),
        detection_cache=cache,
        **options,
    )
    if onboard:
        phone.onboard(age_confirmed=True, province="RM", permissions=ALL_PERMISSIONS)
    return phone


def exchange(
    sender: Phone,
    receiver: Phone,
    clock: SimClock,
    *,
    minutes: int,
    attenuation_db: int,
    scan_every_s: int = 240,
) -> None:
    """`receiver` hears `sender` once per scan for `minutes`, at the given attenuation."""
    tx = DEVICE.tx_power_dbm
    rssi = tx - attenuation_db - DEVICE.rssi_correction_db
    for _ in range(minutes * 60 // scan_every_s):
        receiver.on_advertisement(sender.current_advertisement(), rssi)
        clock.advance(scan_every_s)
