"""The phone's HTTP side: Immuni's three hosts over one ``httpx.AsyncClient``.

Immuni split its API over hosts (immuni-api.md §3): settings and key batches on ``get``,
check-otp and upload on ``upload``, operational info on ``analytics``; `Endpoints` holds one
base URL for each. Rules:

1. Every ``httpx`` exception and every unusable answer becomes a `ServerError` subclass here
   (``raise … from``); nothing from ``httpx`` crosses this module.
2. Ingestion requests (check-otp, upload, real or dummy) are padded to exactly
   ``teks_packet_size`` bytes on the wire, "headers included" (immuni-api.md §6.1): the size
   counts the HTTP/1.1 request line, every header line as ``Name: value\\r\\n``, the blank
   line and the body, as iOS's ``FixedSizeJSONRequest`` does and as h11 writes them. The
   padding is random lower-case hex in the body's ``padding`` field. (Under HTTP/2 header
   compression no such equality can hold, as Immuni's own comment says; the client speaks
   HTTP/1.1.)
3. Response bodies are read with a size cap, so a hostile server cannot exhaust memory.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from notifica.phone.errors import (
    BadServerResponse,
    ServerFailure,
    ServerTimeout,
    ServerUnreachable,
    UnauthorizedOtp,
)

__all__ = ["Endpoints", "ImmuniHttp", "make_http_client", "wire_size"]

MAX_JSON_BYTES = 1 << 20
"""Cap on a JSON answer (settings are a few kB)."""

MAX_BATCH_BYTES = 32 << 20
"""Cap on one key batch: 10,000 keys are ≈ 300 kB (immuni-api.md §5.4); GAEN's own export
limit of 750,000 keys would be ≈ 22 MB."""

FIXED_HEADERS = {
    "User-Agent": "Immuni",
    "Accept-Language": "en-US;q=1.0",
    "Accept-Encoding": "identity",
}
"""Headers of constant size on every request (immuni-api.md §6.1: iOS sent fixed
User-Agent / Accept-Language / Accept-Encoding). ``identity`` rather than iOS's ``br``:
no decoder is needed and every answer's size stays what the server sent."""

DEFAULT_TIMEOUT_S = 10.0
"""iOS refreshes settings with a 10 s timeout (immuni-api.md §9.2); used for every call."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Base URLs of Immuni's hosts (immuni-api.md §3)."""

    settings_url: str
    upload_url: str
    analytics_url: str

    @classmethod
    def single(cls, base_url: str) -> Endpoints:
        """One server for every service (notifica's embedded default)."""
        return cls(settings_url=base_url, upload_url=base_url, analytics_url=base_url)

    def __post_init__(self) -> None:
        for name in ("settings_url", "upload_url", "analytics_url"):
            url = httpx.URL(getattr(self, name))
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError(f"{name} must be an http(s) URL with a host, got {url}")
            object.__setattr__(self, name, str(url).rstrip("/"))


def make_http_client(
    *, pinned_ca: str | Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> httpx.AsyncClient:
    """An HTTP/1.1 client that verifies TLS, optionally trusting only `pinned_ca`.

    Immuni pinned its CA (immuni-api.md §9.4); with `pinned_ca` the system trust store is
    not consulted at all, so only certificates issued under that CA are accepted.
    """
    verify: ssl.SSLContext | bool = True
    if pinned_ca is not None:
        verify = ssl.create_default_context(cafile=str(pinned_ca))
    return httpx.AsyncClient(verify=verify, timeout=timeout_s, http2=False)


def wire_size(request: httpx.Request) -> int:
    """Bytes of `request` as an HTTP/1.1 client writes it (request line, headers, body)."""
    target = request.url.raw_path.decode("ascii")
    size = len(request.method) + 1 + len(target) + len(" HTTP/1.1\r\n")
    for name, value in request.headers.raw:
        size += len(name) + 2 + len(value) + 2
    return size + 2 + len(request.content)


class ImmuniHttp:
    """Immuni's client calls for one phone (see the module docstring for the rules)."""

    __slots__ = ("_client", "_endpoints", "_random_bytes")

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoints: Endpoints,
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self._client = client
        self._endpoints = endpoints
        self._random_bytes = random_bytes

    # -- reads ------------------------------------------------------------------------------

    async def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        request = self._client.build_request("GET", url, params=params, headers=FIXED_HEADERS)
        response, body = await self._send(request, cap=MAX_JSON_BYTES)
        self._expect(response, 200, url)
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadServerResponse(f"GET {url}: the body is not JSON ({exc})") from exc

    async def get_settings(self, *, platform: str, build: int) -> Any:
        """The raw settings object (immuni-api.md §3.1)."""
        return await self.get_json(
            f"{self._endpoints.settings_url}/v1/settings",
            {"platform": platform, "build": str(build)},
        )

    async def get_index(self) -> bytes | None:
        """The body of the keys index, or None when no batch exists (404 1301)."""
        url = f"{self._endpoints.settings_url}/v1/keys/index"
        request = self._client.build_request("GET", url, headers=FIXED_HEADERS)
        response, body = await self._send(request, cap=MAX_JSON_BYTES)
        if response.status_code == 404:
            return None
        self._expect(response, 200, url)
        return body

    async def get_batch(self, index: int) -> bytes:
        """The bytes of batch `index` (a signed export zip, immuni-api.md §3.5)."""
        url = f"{self._endpoints.settings_url}/v1/keys/{index}"
        request = self._client.build_request("GET", url, headers=FIXED_HEADERS)
        response, body = await self._send(request, cap=MAX_BATCH_BYTES)
        self._expect(response, 200, url)
        return body

    # -- ingestion (fixed size) -------------------------------------------------------------

    async def check_otp(
        self, *, token: str, dummy: bool, client_clock: int, packet_size: int
    ) -> None:
        """POST check-otp (immuni-api.md §3.3).

        Raises:
            UnauthorizedOtp: on 401 (a real request whose OTP is not authorised).
        """
        await self._ingest(
            "check-otp",
            token=token,
            dummy=dummy,
            extra_headers={},
            fields={},
            packet_size=packet_size,
            client_clock=client_clock,
        )

    async def upload(
        self,
        *,
        token: str,
        fields: Mapping[str, Any],
        dummy: bool,
        client_clock: int,
        packet_size: int,
    ) -> None:
        """POST upload with `fields` (teks, province, summaries) (immuni-api.md §3.3)."""
        await self._ingest(
            "upload",
            token=token,
            dummy=dummy,
            extra_headers={"Immuni-Client-Clock": str(client_clock)},
            fields=fields,
            packet_size=packet_size,
            client_clock=client_clock,
        )

    async def _ingest(
        self,
        path: str,
        *,
        token: str,
        dummy: bool,
        extra_headers: Mapping[str, str],
        fields: Mapping[str, Any],
        packet_size: int,
        client_clock: int,
    ) -> None:
        url = f"{self._endpoints.upload_url}/v1/ingestion/{path}"
        headers = {
            **FIXED_HEADERS,
            "Authorization": f"Bearer {token}",
            "Immuni-Dummy-Data": "1" if dummy else "0",
            "Content-Type": "application/json; charset=utf-8",
            **extra_headers,
        }
        request = self.padded_request("POST", url, headers, fields, packet_size)
        response, _ = await self._send(request, cap=MAX_JSON_BYTES)
        if response.status_code == 401:
            raise UnauthorizedOtp(f"POST {url}: the OTP is not authorised (401)")
        self._expect(response, 204, url)

    def padded_request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        fields: Mapping[str, Any],
        packet_size: int,
    ) -> httpx.Request:
        """A request whose `wire_size` is exactly `packet_size`, padding in ``fields``.

        Raises:
            ValueError: if the request without padding is already larger than `packet_size`.
        """
        padding = ""
        for _ in range(4):
            body = json.dumps({**fields, "padding": padding}, separators=(",", ":")).encode()
            request = self._client.build_request(method, url, headers=headers, content=body)
            missing = packet_size - wire_size(request)
            if missing == 0:
                return request
            if len(padding) + missing < 0:
                raise ValueError(
                    f"{method} {url}: {wire_size(request) - len(padding)} bytes before padding "
                    f"exceed teks_packet_size {packet_size}"
                )
            padding = self._random_hex(len(padding) + missing)
        raise AssertionError("padding did not converge")  # Content-Length grows monotonically

    def _random_hex(self, length: int) -> str:
        return self._random_bytes((length + 1) // 2).hex()[:length]

    # -- analytics --------------------------------------------------------------------------

    async def post_operational_info(
        self, *, body: Mapping[str, Any], dummy: bool, flavour: str = "google"
    ) -> None:
        """POST operational info (immuni-api.md §3.6); the server always answers 204."""
        url = f"{self._endpoints.analytics_url}/v1/analytics/{flavour}/operational-info"
        headers = {
            **FIXED_HEADERS,
            "Immuni-Dummy-Data": "1" if dummy else "0",
            "Content-Type": "application/json; charset=utf-8",
        }
        content = json.dumps(dict(body), separators=(",", ":")).encode()
        request = self._client.build_request("POST", url, headers=headers, content=content)
        response, _ = await self._send(request, cap=MAX_JSON_BYTES)
        self._expect(response, 204, url)

    # -- plumbing ---------------------------------------------------------------------------

    async def _send(self, request: httpx.Request, *, cap: int) -> tuple[httpx.Response, bytes]:
        where = f"{request.method} {request.url}"
        try:
            response = await self._client.send(request, stream=True)
            try:
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise BadServerResponse(f"{where}: the answer exceeds {cap} bytes")
                    chunks.append(chunk)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise ServerTimeout(f"{where}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ServerUnreachable(f"{where}: {type(exc).__name__}: {exc}") from exc
        except ssl.SSLError as exc:  # raised directly by some transports
            raise ServerUnreachable(f"{where}: TLS failure: {exc}") from exc
        if response.status_code >= 500:
            raise ServerFailure(
                f"{where}: server error {response.status_code}", status_code=response.status_code
            )
        return response, b"".join(chunks)

    @staticmethod
    def _expect(response: httpx.Response, status: int, url: str) -> None:
        if response.status_code != status:
            raise BadServerResponse(
                f"{response.request.method} {url}: expected {status}, got {response.status_code}"
            )
