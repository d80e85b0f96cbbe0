"""Authentication of the health operators' systems (HIS) calling ``POST /v1/otp``.

Two ways in, either enough:

* a bearer API key per client, made by ``notifica his add-client NAME``: 256 random bits,
  stored as SHA-256 (a fast hash is right for random keys; there is nothing to brute-force),
  compared in constant time;
* a client certificate verified by a TLS-terminating proxy, which passes the certificate's
  SHA-256 fingerprint in the header named by ``his_cert_header`` (off by default: only turn it
  on when the proxy strips that header from incoming requests).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from notifica.clock import Clock
from notifica.server.errors import SchemaError, Unauthenticated
from notifica.server.repository import HisClient, Repository
from notifica.server.settings import Settings

__all__ = ["API_KEY_PREFIX", "HisAuthenticator", "new_api_key"]

API_KEY_PREFIX = "nhis_"
"""Makes leaked keys easy to recognise (and to scan for) in logs and repositories."""


def new_api_key() -> str:
    """A fresh API key: the prefix and 256 bits from the CSPRNG."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class HisAuthenticator:
    """Turns request credentials into a `HisClient`, or refuses with 401."""

    def __init__(self, repository: Repository, clock: Clock, settings: Settings) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings

    def authenticate(self, *, authorization: str | None, cert_fingerprint: str | None) -> HisClient:
        """The calling client.

        Raises:
            Unauthenticated: without a known API key or a trusted certificate fingerprint.
        """
        if self._settings.his_cert_header and cert_fingerprint:
            name = self._settings.his_cert_clients.get(cert_fingerprint.strip().lower())
            if name is not None:
                client = self._repository.his_clients.find_by_name(name)
                if client is not None:
                    return client
        if authorization:
            scheme, _, api_key = authorization.partition(" ")
            if scheme == "Bearer" and api_key.startswith(API_KEY_PREFIX):
                presented = _hash(api_key)
                found = self._repository.his_clients.find_by_token_hash(presented)
                if found is not None and hmac.compare_digest(found[1], presented):
                    return found[0]
        raise Unauthenticated()

    def add_client(self, name: str) -> tuple[HisClient, str]:
        """Register a client and return it with its new API key (shown once, stored hashed).

        Raises:
            SchemaError: if the name is empty, too long or taken.
        """
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise SchemaError("client name must be 1 to 100 characters")
        api_key = new_api_key()
        client = self._repository.his_clients.add(
            name=name, token_hash=_hash(api_key), now=self._clock.now()
        )
        if client is None:
            raise SchemaError(f"a HIS client called {name!r} already exists")
        return client, api_key
