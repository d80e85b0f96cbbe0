"""The phone verifies TLS and can pin the server's CA (as Immuni did): a real TLS server on
the loopback interface, certificates from two throw-away CAs."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from notifica.phone import Endpoints, ServerUnreachable, make_http_client
from notifica.phone._http import ImmuniHttp

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _ca(tmp: Path, label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=36_500))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    path = tmp / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    tmp = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert, ca_path = _ca(tmp, "server-ca")
    _, _, other_path = _ca(tmp, "other-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=36_500))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "leaf.pem", tmp / "leaf.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", ca_path, other_path
    server.shutdown()
    server.server_close()


def _get_settings(url: str, pinned: Path | None) -> object:
    async def go() -> object:
        client = make_http_client(pinned_ca=pinned, timeout_s=5)
        try:
            http = ImmuniHttp(client, Endpoints.single(url), random.Random(0).randbytes)
            return await http.get_settings(platform="android", build=1)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_pinned_ca_is_trusted(tls_server: tuple[str, Path, Path]) -> None:
    url, ca, _ = tls_server
    assert _get_settings(url, ca) == {}


def test_another_ca_is_refused(tls_server: tuple[str, Path, Path]) -> None:
    url, _, other = tls_server
    with pytest.raises(ServerUnreachable, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        _get_settings(url, other)


def test_tls_is_verified_by_default(tls_server: tuple[str, Path, Path]) -> None:
    url, _, _ = tls_server
    with pytest.raises(ServerUnreachable):
        _get_settings(url, None)  # a private CA is not in the system trust store
