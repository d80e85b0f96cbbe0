"""The export signing key: loaded from ``NOTIFICA_SIGNING_KEY``, or made for the embedded mode.

Production passes the PEM of a P-256 key created with ``notifica keys generate-signing-key``
(or kept in an HSM behind the `ExportSigner` interface of `notifica.protocol`). When no key is
configured and ``generate_signing_key`` is true (the default, for ``notifica serve`` with no
configuration), a key is generated once into ``data_dir/signing-key.pem`` (mode 0600) and a
log line gives its path: phones must be given its public key (``notifica keys public-key``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from notifica.protocol import EcdsaSigner, ExportSigner, SignatureInfo, generate_signing_key_pem
from notifica.server.settings import Settings

__all__ = ["SigningKeyMissing", "load_signer", "signature_info"]

_log = logging.getLogger("notifica.server.signing")


class SigningKeyMissing(FileNotFoundError):
    """No signing key at the configured path, and generating one is not allowed."""


def signature_info(settings: Settings) -> SignatureInfo:
    """The SignatureInfo written into every export (immuni-api.md §5.4)."""
    return SignatureInfo(
        verification_key_id=settings.signing_key_id,
        verification_key_version=settings.signing_key_version,
        app_bundle_id=settings.app_bundle_id,
        android_package=settings.android_package,
    )


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_signing_key_pem()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def load_signer(settings: Settings) -> ExportSigner:
    """The signer for exports, generating the embedded-mode key if allowed and missing.

    Raises:
        SigningKeyMissing: if the key file is absent and may not be generated.
        ValueError: if the file is not a usable private key PEM.
    """
    path = settings.effective_signing_key
    if not path.exists():
        if settings.signing_key is not None or not settings.generate_signing_key:
            raise SigningKeyMissing(f"signing key {path} does not exist")
        try:
            _write_new_key(path)
            _log.warning("generated a new export signing key at %s", path)
        except FileExistsError:
            pass  # another process made it first
    return EcdsaSigner.from_pem(path.read_bytes(), signature_info=signature_info(settings))
