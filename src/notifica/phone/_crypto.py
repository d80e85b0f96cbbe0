"""Encryption at rest for the phone's store: key providers and sealed records.

The scheme (immuni-api.md §9.4: Immuni sealed its store with AES-GCM under a key kept by the OS):

- A random 256-bit **data key** encrypts every record with AES-256-GCM: a fresh 96-bit random
  nonce per record (NIST SP 800-38D §8.2.2; at 2^32 seals per key the collision bound is far
  beyond what one phone writes in 14 days), the 16-byte tag, and associated data naming the
  record's place (store id, table, row key). A record copied into another row, table or
  store, or altered by one bit, fails authentication instead of decrypting to garbage.
- The data key is stored **wrapped** (AES-256-GCM again) under a **key-encryption key** that
  a `KeyProvider` supplies: scrypt of a passphrase (the default; RFC 7914 with N = 2^15,
  r = 8, p = 1, the interactive-login cost recommended by the cryptography docs), a random key
  held in an OS keyring where the optional ``keyring`` package exists, or a raw key (tests,
  simulations). Wrapping means a wrong passphrase is detected by the wrap's tag (one clear
  error) and a passphrase change re-wraps 32 bytes rather than the whole store.

What stays in plain text: the header (format, version, provider kind, scrypt salt and cost),
the UTC day of each sighting block (so old days can be purged without the key) and record
sizes. No RPI, AEM, TEK, province or state is ever written unsealed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from notifica.phone.errors import StoreCorrupted, StoreError, WrongStoreKey

__all__ = [
    "KeyProvider",
    "KeyringKeyProvider",
    "RawKeyProvider",
    "ScryptKeyProvider",
    "Sealer",
]

KEY_BYTES = 32
"""AES-256 keys for both the data key and the key-encryption key."""

NONCE_BYTES = 12
"""AES-GCM's recommended 96-bit nonce (NIST SP 800-38D §5.2.1.1)."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""scrypt cost for a passphrase (cryptography docs' interactive-login figures; RFC 7914 §2)."""

KeyParams = Mapping[str, Any]


@runtime_checkable
class KeyProvider(Protocol):
    """Supplies the key-encryption key that wraps a store's data key.

    `kind` is written in the store's header so that opening it later asks the right provider.
    """

    kind: str

    def create_kek(self, store_id: bytes) -> tuple[bytes, dict[str, Any]]:
        """A new 32-byte key for a new store, and the public parameters to keep in its header."""
        ...

    def open_kek(self, store_id: bytes, params: KeyParams) -> bytes:
        """The key of an existing store, from the parameters in its header.

        Raises:
            WrongStoreKey: if this provider cannot produce the key (missing keyring entry).
        """
        ...


class ScryptKeyProvider:
    """A key from a passphrase via scrypt (the default provider)."""

    kind = "scrypt"

    def __init__(
        self, passphrase: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
    ) -> None:
        if not isinstance(passphrase, str):
            raise TypeError("passphrase must be a str")
        if not passphrase:
            raise ValueError("passphrase must not be empty")
        if n < 2 or n & (n - 1):
            raise ValueError(f"scrypt n must be a power of two ≥ 2, got {n}")
        self._passphrase = passphrase.encode()
        self._n, self._r, self._p = n, r, p

    def create_kek(self, store_id: bytes) -> tuple[bytes, dict[str, Any]]:
        salt = os.urandom(16)
        params = {"salt": salt.hex(), "n": self._n, "r": self._r, "p": self._p}
        return self._derive(salt, self._n, self._r, self._p), params

    def open_kek(self, store_id: bytes, params: KeyParams) -> bytes:
        try:
            salt = bytes.fromhex(str(params["salt"]))
            n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        except (KeyError, ValueError, TypeError) as exc:
            raise StoreCorrupted(f"store header has bad scrypt parameters: {exc}") from exc
        if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
            raise StoreCorrupted(f"store header has out-of-range scrypt cost n={n} r={r} p={p}")
        return self._derive(salt, n, r, p)

    def _derive(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(self._passphrase)


class RawKeyProvider:
    """A key given directly: for tests and simulations, where scrypt's cost buys nothing."""

    kind = "raw"

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise ValueError(f"key must be {KEY_BYTES} bytes")
        self._key = key

    def create_kek(self, store_id: bytes) -> tuple[bytes, dict[str, Any]]:
        return self._key, {}

    def open_kek(self, store_id: bytes, params: KeyParams) -> bytes:
        return self._key


class _KeyringBackend(Protocol):
    def get_password(self, service_name: str, username: str) -> str | None: ...
    def set_password(self, service_name: str, username: str, password: str) -> None: ...


class KeyringKeyProvider:
    """A random key kept in an OS keyring (Keychain, Secret Service, Windows Credential Locker).

    `backend` is anything with keyring's ``get_password`` / ``set_password``; `from_system()`
    uses the optional ``keyring`` package, which notifica does not depend on.
    """

    kind = "keyring"
    SERVICE = "notifica-phone-store"

    def __init__(self, backend: _KeyringBackend) -> None:
        self._backend = backend

    @classmethod
    def from_system(cls) -> KeyringKeyProvider:
        """The provider over the system keyring.

        Raises:
            StoreError: if the ``keyring`` package is not installed or has no usable backend.
        """
        try:
            import keyring  # optional dependency: only where an OS keyring exists
            from keyring.backends.fail import Keyring as FailKeyring
        except ImportError as exc:
            raise StoreError("no OS keyring: the optional 'keyring' package is missing") from exc
        if isinstance(keyring.get_keyring(), FailKeyring):
            raise StoreError("no OS keyring backend is available on this system")
        return cls(keyring)

    def create_kek(self, store_id: bytes) -> tuple[bytes, dict[str, Any]]:
        key = os.urandom(KEY_BYTES)
        self._backend.set_password(self.SERVICE, store_id.hex(), key.hex())
        return key, {}

    def open_kek(self, store_id: bytes, params: KeyParams) -> bytes:
        stored = self._backend.get_password(self.SERVICE, store_id.hex())
        if stored is None:
            raise WrongStoreKey(f"the keyring holds no key for store {store_id.hex()}")
        try:
            key = bytes.fromhex(stored)
        except ValueError as exc:
            raise WrongStoreKey("the keyring entry for this store is not a key") from exc
        if len(key) != KEY_BYTES:
            raise WrongStoreKey("the keyring entry for this store is not a 32-byte key")
        return key


class Sealer:
    """AES-256-GCM sealing of records bound to their place by associated data."""

    __slots__ = ("_aead", "_store_id")

    def __init__(self, data_key: bytes, store_id: bytes) -> None:
        self._aead = AESGCM(data_key)
        self._store_id = store_id

    @staticmethod
    def new_data_key() -> bytes:
        return AESGCM.generate_key(bit_length=KEY_BYTES * 8)

    def _aad(self, place: str) -> bytes:
        return self._store_id + b"|" + place.encode()

    def seal(self, place: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, self._aad(place))

    def open(self, place: str, sealed: bytes) -> bytes:
        """Decrypt a record sealed for `place`.

        Raises:
            StoreCorrupted: if the record was altered, moved or belongs to another store.
        """
        if len(sealed) < NONCE_BYTES + 16:
            raise StoreCorrupted(f"record {place} is truncated ({len(sealed)} bytes)")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self._aad(place))
        except InvalidTag as exc:
            raise StoreCorrupted(f"record {place} fails authentication (tampered)") from exc


def wrap_key(kek: bytes, data_key: bytes, store_id: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, b"notifica-store-key|" + store_id)


def unwrap_key(kek: bytes, wrapped: bytes, store_id: bytes, *, where: str) -> bytes:
    """The data key, or `WrongStoreKey` if `kek` is not the one that wrapped it."""
    try:
        data_key = AESGCM(kek).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"notifica-store-key|" + store_id
        )
    except (InvalidTag, ValueError) as exc:
        raise WrongStoreKey(f"{where}: wrong passphrase or key for this store") from exc
    if len(data_key) != KEY_BYTES:
        raise StoreCorrupted(f"{where}: the wrapped data key has the wrong length")
    return data_key
