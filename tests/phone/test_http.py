"""The phone's HTTP side: exact request sizes on the wire and errors mapped at the boundary."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

import h11
import httpx
import pytest

from notifica.phone._http import Endpoints, ImmuniHttp, make_http_client, wire_size
from notifica.phone.errors import (
    BadServerResponse,
    ServerFailure,
    ServerTimeout,
    ServerUnreachable,
    UnauthorizedOtp,
)

BASE = "https://example.test"


def h11_bytes(request: httpx.Request) -> bytes:
    """What an HTTP/1.1 client (h11, under httpcore) writes for `request`."""
    connection = h11.Connection(h11.CLIENT)
    head = connection.send(
        h11.Request(
            method=request.method,
            target=request.url.raw_path,
            headers=list(request.headers.raw),
        )
    )
    body = connection.send(h11.Data(data=request.content))
    end = connection.send(h11.EndOfMessage())
    return (head or b"") + (body or b"") + (end or b"")


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def make(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[ImmuniHttp, list[int]]:
    sizes: list[int] = []

    def measuring(request: httpx.Request) -> httpx.Response:
        sizes.append(len(h11_bytes(request)))
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(measuring))
    return ImmuniHttp(client, Endpoints.single(BASE), random.Random(3).randbytes), sizes


def test_wire_size_agrees_with_h11() -> None:
    request = httpx.Request("POST", f"{BASE}/v1/x?y=1", headers={"A": "b"}, content=b"12345")
    assert wire_size(request) == len(h11_bytes(request))


@pytest.mark.parametrize("packet_size", [1_000, 4_321, 110_000])
def test_check_otp_and_upload_have_exactly_the_packet_size(packet_size: int) -> None:
    http, sizes = make(lambda request: httpx.Response(204))
    token = "ab" * 32
    run(
        http.check_otp(
            token=token, dummy=False, client_clock=1_600_000_000, packet_size=packet_size
        )
    )
    run(http.check_otp(token=token, dummy=True, client_clock=0, packet_size=packet_size))
    fields = {"teks": [], "province": "RM", "exposure_detection_summaries": []}
    run(
        http.upload(
            token=token,
            fields=fields,
            dummy=False,
            client_clock=1_600_000_000,
            packet_size=packet_size,
        )
    )
    run(
        http.upload(token=token, fields=fields, dummy=True, client_clock=7, packet_size=packet_size)
    )
    assert sizes == [packet_size] * 4


def test_padding_is_random_lowercase_hex() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(204)

    http, _ = make(handler)
    run(http.check_otp(token="0" * 64, dummy=True, client_clock=0, packet_size=2_000))
    padding = json.loads(bodies[0])["padding"]
    assert padding
    assert set(padding) <= set("0123456789abcdef")


def test_a_body_larger_than_the_packet_size_is_refused() -> None:
    http, _ = make(lambda request: httpx.Response(204))
    with pytest.raises(ValueError, match="exceed teks_packet_size"):
        run(
            http.upload(
                token="0" * 64,
                fields={"teks": ["x" * 5_000]},
                dummy=False,
                client_clock=0,
                packet_size=1_000,
            )
        )


def test_check_otp_401_is_unauthorized() -> None:
    http, _ = make(lambda request: httpx.Response(401, json={"error_code": 1101}))
    with pytest.raises(UnauthorizedOtp):
        run(http.check_otp(token="0" * 64, dummy=False, client_clock=0, packet_size=2_000))


def _raise(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_raise(httpx.ConnectTimeout("slow")), ServerTimeout),
        (_raise(httpx.ReadTimeout("slow")), ServerTimeout),
        (_raise(httpx.ConnectError("refused")), ServerUnreachable),
        (_raise(httpx.RemoteProtocolError("truncated")), ServerUnreachable),
        (lambda r: httpx.Response(503), ServerFailure),
        (lambda r: httpx.Response(500, text="oops"), ServerFailure),
        (lambda r: httpx.Response(200, text="{not json"), BadServerResponse),
        (lambda r: httpx.Response(200, content=b"\xff\xfe"), BadServerResponse),
        (lambda r: httpx.Response(418), BadServerResponse),
        (lambda r: httpx.Response(200, content=b"[" * (2 << 20)), BadServerResponse),
    ],
)
def test_http_failures_map_to_phone_errors(
    handler: Callable[[httpx.Request], httpx.Response], expected: type[Exception]
) -> None:
    http, _ = make(handler)
    with pytest.raises(expected):
        run(http.get_settings(platform="android", build=1))


def test_index_404_means_no_batches() -> None:
    http, _ = make(lambda r: httpx.Response(404, json={"error_code": 1301}))
    assert run(http.get_index()) is None


def test_batch_download_returns_the_bytes() -> None:
    http, _ = make(lambda r: httpx.Response(200, content=b"PK\x03\x04zip"))
    assert run(http.get_batch(7)) == b"PK\x03\x04zip"


def test_each_service_goes_to_its_own_host() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(f"{request.url.host}{request.url.path}")
        if request.url.path.endswith("settings"):
            return httpx.Response(200, json={})
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    endpoints = Endpoints(
        settings_url="https://get.test",
        upload_url="https://upload.test/",
        analytics_url="https://analytics.test",
    )
    http = ImmuniHttp(client, endpoints, random.Random(0).randbytes)
    run(http.get_settings(platform="ios", build=3))
    run(http.check_otp(token="0" * 64, dummy=True, client_clock=0, packet_size=2_000))
    run(http.post_operational_info(body={"province": "RM"}, dummy=True))
    assert hosts == [
        "get.test/v1/settings",
        "upload.test/v1/ingestion/check-otp",
        "analytics.test/v1/analytics/google/operational-info",
    ]


@pytest.mark.parametrize("url", ["ftp://x.test", "not a url", "https://"])
def test_endpoints_reject_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Endpoints.single(url)


def test_pinned_client_trusts_only_the_given_ca(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from notifica.phone._attestation import make_test_attestation_ca

    ca = make_test_attestation_ca(now=datetime(2024, 1, 1, tzinfo=UTC))
    path = tmp_path / "ca.pem"
    path.write_bytes(ca.ca_certificate_pem)
    client = make_http_client(pinned_ca=path)
    assert isinstance(client, httpx.AsyncClient)
    run(client.aclose())
