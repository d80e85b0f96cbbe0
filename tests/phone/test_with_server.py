"""Phones joined to the real backend app in process (h11's ConnectionPair idea, at HTTP level).

`Pair` builds `notifica.server.create_app` on one `SimClock` with a fresh SQLite database and
connects phones to it through ``httpx.ASGITransport``; the OTP is authorised through the
server's own OTP service, batches come from its publish job, analytics go through its
attestation verifier with a test CA. This is issue 4's "Done when" scenario.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from notifica.clock import SimClock
from notifica.phone import (
    Endpoints,
    MemoryStore,
    Phone,
    TestCaAttestation,
    make_test_attestation_ca,
)
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, JwsAttestationVerifier, NoSleep, Settings, create_app
from notifica.server.signing import signature_info

from .support import ALL_PERMISSIONS, DEVICE, START, exchange

BASE = "http://immuni.test"


@dataclass
class Pair:
    """The real backend and phones on one simulated clock."""

    tmp_path: Path
    clock: SimClock = field(default_factory=lambda: SimClock(START))
    phones: list[Phone] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = Settings(
            data_dir=self.tmp_path, database_url=f"sqlite:///{self.tmp_path / 'server.db'}"
        )
        signer = EcdsaSigner.from_pem(
            generate_signing_key_pem(), signature_info=signature_info(settings)
        )
        self.attestation_ca = make_test_attestation_ca(now=self.clock.now() - timedelta(days=1))
        verifier = JwsAttestationVerifier(
            roots=[x509.load_pem_x509_certificate(self.attestation_ca.ca_certificate_pem)],
            hostname="attest.android.com",
            package_name="it.ministerodellasalute.immuni",
            apk_digests=["test-digest"],
            max_skew_s=600,
        )
        self.backend = Backend(
            settings,
            clock=self.clock,
            signer=signer,
            sleeper=NoSleep(),
            rng=random.Random(0),
            attestation=verifier,
        )
        self.backend.upgrade()
        self.app = create_app(settings, backend=self.backend)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))
        self.public_keys = {
            (
                signer.signature_info.verification_key_id,
                signer.signature_info.verification_key_version,
            ): signer.public_key_pem(),
        }

    def phone(self, seed: int, **options: Any) -> Phone:
        phone = Phone(
            clock=self.clock,
            store=MemoryStore(),
            device=DEVICE,
            http=self.client,
            endpoints=Endpoints.single(BASE),
            public_keys=self.public_keys,
            rng=random.Random(seed),
            attestation=TestCaAttestation(
                self.attestation_ca, apk_certificate_digest="test-digest"
            ),
            **options,
        )
        phone.onboard(age_confirmed=True, province="RM", permissions=ALL_PERMISSIONS)
        self.phones.append(phone)
        return phone

    def report(self, phone: Phone, *, onset: date) -> None:
        shown = phone.report_positive()
        self.backend.authorise_otp(shown.replace("-", ""), onset)  # the portal's code path
        asyncio.run(phone.verify_otp())
        asyncio.run(phone.upload_keys())


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = Pair(tmp_path)
    yield made
    asyncio.run(made.client.aclose())
    made.backend.repository.close()


def test_done_when_close_contact_is_notified_and_far_or_positive_ones_are_not(
    pair: Pair,
) -> None:
    a, b, c = pair.phone(1), pair.phone(2), pair.phone(3)
    contact_day = pair.clock.now().date()
    for _ in range(5):  # 20 minutes, both directions, about 55 dB
        b.on_advertisement(a.current_advertisement(), DEVICE.tx_power_dbm - 55)
        a.on_advertisement(b.current_advertisement(), DEVICE.tx_power_dbm - 55)
        pair.clock.advance(240)
    exchange(a, c, pair.clock, minutes=5, attenuation_db=80)

    pair.clock.set(datetime.combine(contact_day + timedelta(days=1), START.timetz()))
    pair.report(a, onset=contact_day)
    assert a.status().covid_status == "positive"
    published = pair.backend.publish()
    assert published.batches  # A's key of the contact day has expired: it is published

    report_b = asyncio.run(b.detect())
    assert report_b.problems == ()
    assert report_b.notified
    assert b.status().last_contact_date == contact_day
    assert b.status().covid_status == "risk"
    report_c = asyncio.run(c.detect())
    assert report_c.matched_keys == 1
    assert not report_c.notified
    assert c.status().covid_status == "neutral"

    # B reports too; A heard B, but a positive user is never notified.
    pair.clock.advance(timedelta(days=1))
    pair.report(b, onset=contact_day)
    pair.backend.publish()
    report_a = asyncio.run(a.detect())
    assert report_a.matched_keys >= 1
    assert not report_a.notified
    assert a.status().covid_status == "positive"
    assert a.status().notifications_shown == 0


def test_phones_ticking_against_the_server_send_same_size_ingestion_traffic(
    pair: Pair,
) -> None:
    sizes: list[int] = []
    original = pair.client._transport

    class Measuring(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/v1/ingestion/"):
                from .support import h11_size

                sizes.append(h11_size(request))
            return await original.handle_async_request(request)

    pair.client._transport = Measuring()
    phone = pair.phone(7)
    asyncio.run(phone.detect())
    state = phone.state.copy()
    state.dummy_window_start_unix_s = pair.clock.now().timestamp()
    state.dummy_window_end_unix_s = state.dummy_window_start_unix_s + 3_600
    phone._commit(state)
    for _ in range(200):
        asyncio.run(phone.tick())
        pair.clock.advance(5)
    assert len(sizes) >= 1
    pair.report(phone, onset=pair.clock.now().date())
    assert len(set(sizes)) == 1
    assert sizes[0] == 110_000


def test_operational_info_passes_the_servers_attestation_check(pair: Pair) -> None:
    phone = pair.phone(11)
    state = phone.state.copy()
    state.analytics_month = None
    phone._commit(state)
    for _ in range(6 * 31):  # a month of detections every 4 h
        asyncio.run(phone.tick())
        pair.clock.advance(timedelta(hours=4))
    stored = pair.backend.repository.analytics.count_operational_info()
    assert stored >= 1
