"""The real backend of a simulated run, on the simulated clock, behind a CDN-like cache.

One `SimServer` per run: `notifica.server.Backend` + `create_app` on the run's `SimClock`,
with a SQLite file in the run's temporary directory (or the PostgreSQL database of
``--database-url``), reached in process through ``httpx.ASGITransport``. Three seams make it
a simulation rather than a deployment, and nothing else changes:

- `ClockSleeper`: the ingestion timing defence holds responses by moving the *simulated*
  clock forward (the response leaves when the simulated time has come), never by sleeping;
- `DeterministicSigner`: a P-256 key derived from the run's seed and RFC 6979 signatures, so
  the same seed gives the same batch bytes (and the same downloaded byte counts);
- `CdnTransport`: a shared HTTP cache in front of the app, as the CDN in front of Immuni's
  ``get`` host (immuni-api.md §3.5): GET responses are kept per URL as long as their
  ``Cache-Control: public, max-age`` allows, so a batch crosses the ASGI app once per run
  however many phones download it; every response still counts towards the bytes of the
  phone that asked (`CdnTransport.phone`), for `TrafficCollector.record_download`. A 404
  (the index before the first batch) is kept `NEGATIVE_TTL_S`.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifica.clock import SimClock
from notifica.phone import Endpoints
from notifica.protocol import SignatureInfo
from notifica.server import Backend, Settings, create_app
from notifica.server.signing import signature_info

__all__ = ["BASE_URL", "CdnTransport", "ClockSleeper", "DeterministicSigner", "SimServer"]

BASE_URL = "http://notifica.sim"
_MAX_AGE = re.compile(r"max-age=(\d+)")
NEGATIVE_TTL_S = 300.0
"""How long the CDN keeps a 404 (*assumption*: CDNs cache error answers for a configured
time — CloudFront's "error caching minimum TTL" — to shield the origin; Immuni's index answers
404 until the first batch exists)."""


class ClockSleeper:
    """Waits on the simulated clock: moves it forward by the requested time."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self.waited_s = 0.0

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._clock.advance(seconds)
            self.waited_s += seconds


@dataclass(frozen=True, slots=True)
class DeterministicSigner:
    """An ECDSA P-256 export signer whose key and signatures depend only on the seed."""

    private_key: ec.EllipticCurvePrivateKey
    signature_info: SignatureInfo

    @classmethod
    def from_seed(cls, seed: int, info: SignatureInfo) -> DeterministicSigner:
        digest = hashlib.sha256(f"notifica.sim signing key {seed}".encode()).digest()
        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 n
        secret = int.from_bytes(digest, "big") % (order - 1) + 1
        return cls(ec.derive_private_key(secret, ec.SECP256R1()), info)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))

    def public_key_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(slots=True)
class _Cached:
    status: int
    headers: httpx.Headers
    content: bytes
    expires_s: float
    size: int


def _response_size(status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> int:
    """Bytes of the response as HTTP/1.1 puts it on the wire (status line, headers, body)."""
    line = len(f"HTTP/1.1 {status} \r\n") + 8
    return line + sum(len(k) + len(v) + 4 for k, v in headers) + 2 + len(content)


class CdnTransport(httpx.AsyncBaseTransport):
    """A shared cache for GETs in front of an inner transport (see the module docstring)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        clock: SimClock,
        phones: int,
        *,
        negative_ttl_s: float = NEGATIVE_TTL_S,
    ) -> None:
        self._inner = inner
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self.phone = -1
        """Index of the phone whose requests are being served (-1: nobody's)."""
        self.received = np.zeros(phones, dtype=np.int64)
        """Response bytes per phone since the last `take_received`."""
        self.hits = 0
        self.misses = 0

    def take_received(self) -> npt.NDArray[np.int64]:
        """Bytes per phone since the last call, and reset the counters."""
        out, self.received = self.received, np.zeros_like(self.received)
        return out

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = self._clock.now().timestamp()
        if request.method == "GET":
            key = str(request.url)
            found = self._cache.get(key)
            if found is not None and now < found.expires_s:
                self.hits += 1
                self._count(found.size)
                return httpx.Response(
                    found.status, headers=found.headers, content=found.content, request=request
                )
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        headers = list(response.headers.raw)
        size = _response_size(response.status_code, headers, content)
        if request.method == "GET":
            self.misses += 1
            control = response.headers.get("cache-control", "")
            match = _MAX_AGE.search(control)
            age = 0.0
            if response.status_code == 200 and "public" in control and match:
                age = int(match.group(1))
            elif response.status_code == 404:
                age = self._negative_ttl_s
            if age > 0:
                self._cache[str(request.url)] = _Cached(
                    response.status_code, httpx.Headers(headers), content, now + age, size
                )
        self._count(size)
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=request
        )

    def _count(self, size: int) -> None:
        if self.phone >= 0:
            self.received[self.phone] += size

    async def aclose(self) -> None:
        await self._inner.aclose()


class SimClient(httpx.AsyncClient):
    """The phones' network: an ``httpx.AsyncClient`` that hands requests straight to its
    transport.

    In process there are no cookies, redirects or authentication to handle, so `send` skips
    that machinery, and parsed URLs are reused; requests are built with the client's default
    headers merged as ``httpx`` does, so their wire size (the ingestion padding) is unchanged.
    """

    _MAX_URLS = 4096

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        super().__init__(transport=transport)
        self._sim_transport = transport
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], httpx.URL] = {}
        self._merged_headers: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}

    def build_request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        **options: Any,
    ) -> httpx.Request:
        if options or not isinstance(url, str):
            return super().build_request(
                method, url, params=params, headers=headers, content=content, **options
            )
        key = (url, tuple(params.items()) if params else ())
        parsed = self._urls.get(key)
        if parsed is None:
            parsed = httpx.URL(url, params=params) if params else httpx.URL(url)
            if len(self._urls) < self._MAX_URLS:
                self._urls[key] = parsed
        header_key = tuple(headers.items()) if headers else ()
        merged = self._merged_headers.get(header_key)
        if merged is None:
            merged = httpx.Headers(self.headers)
            merged.update(dict(header_key))
            if len(self._merged_headers) < self._MAX_URLS:
                self._merged_headers[header_key] = merged
        return httpx.Request(method, parsed, headers=merged, content=content)

    async def send(
        self, request: httpx.Request, *, stream: bool = False, **options: Any
    ) -> httpx.Response:
        response = await self._sim_transport.handle_async_request(request)
        if not stream:
            await response.aread()
        return response


class SimServer:
    """The backend app of one run and the HTTP client every phone shares.

    Args:
        clock: the run's clock.
        data_dir: the run's temporary directory (SQLite file, nothing else).
        phones: phones in the run (for the byte counters).
        seed: the run's seed (signing key, server randomness).
        publish_period_s: the publish job's period.
        database_url: a PostgreSQL URL instead of the SQLite file; the database must be
            empty of keys (the simulation's batches are all it should publish).
        rng_seed: the server's randomness (ingestion delays); `seed` by default. Each shard's
            app replica has its own, so a shard's run does not depend on the others.
        upgrade: create the schema (once per run: the coordinator's server does it, the
            replicas of the shards open the database as it is).
    """

    def __init__(
        self,
        *,
        clock: SimClock,
        data_dir: Path,
        phones: int,
        seed: int,
        publish_period_s: float,
        database_url: str | None = None,
        rng_seed: int | None = None,
        upgrade: bool = True,
        start: datetime | None = None,
    ) -> None:
        self.start = start or clock.now()
        """The run's day 0 (ticks are counted from it)."""
        url = database_url or f"sqlite:///{data_dir / 'server.db'}"
        self.settings = Settings(
            data_dir=data_dir,
            database_url=url,
            publish_interval_s=max(60, round(publish_period_s)),
            run_jobs_in_process=False,
            ingestion_rate_limit_per_minute=0,
            otp_rate_limit_per_minute=0,
        )
        self.signer = DeterministicSigner.from_seed(seed, signature_info(self.settings))
        self.sleeper = ClockSleeper(clock)
        self.backend = Backend(
            self.settings,
            clock=clock,
            signer=self.signer,
            sleeper=self.sleeper,
            rng=random.Random(seed if rng_seed is None else rng_seed),  # noqa: S311 - reproducible
        )
        if upgrade:
            self.backend.upgrade()
        self.database = "postgresql" if url.startswith("postgresql") else "sqlite"
        self.app = create_app(self.settings, backend=self.backend)
        self.cdn = CdnTransport(httpx.ASGITransport(app=self.app), clock, phones)
        self.client = SimClient(self.cdn)
        self.endpoints = Endpoints.single(BASE_URL)
        info = self.signer.signature_info
        self.public_keys = {
            (info.verification_key_id, info.verification_key_version): self.signer.public_key_pem()
        }

    def configure_app(self, *, detection_period_s: float) -> None:
        """Serve the scenario's app settings (both platforms, every build), so the phones
        detect every ``app.detection_period`` as the scenario says."""
        store = self.backend.repository.app_settings
        for platform in ("ios", "android"):
            store.put(
                platform=platform,
                starting_build=1,
                name="exposure_detection_period",
                value=round(detection_period_s),
            )

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.backend.aclose()
