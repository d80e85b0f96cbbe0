"""Errors of the sans-IO protocol layer.

    ProtocolError                    base of everything below
    ├── MalformedPayload             outside bytes that do not parse (says which field and why)
    │   ├── MalformedAdvertisement   a Bluetooth advertisement
    │   ├── MalformedExport          a key-export zip, export.bin or export.sig
    │   └── MalformedWireMessage     a JSON body of the Immuni API
    ├── InvalidSignature             a signature that does not verify
    │   ├── UnknownSigningKey        no signature names a key the caller trusts
    │   └── UnsignedExport           a key export with no signature to check
    ├── UnsupportedAlgorithm         a signature algorithm or curve not allowed by the caller
    └── InvalidOtp                   an upload code with a bad length, symbol or check character

Parsers of outside bytes raise only these. A caller's own mistake (a 15-byte key given to a
constructor, a negative interval) is a plain ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

from notifica.errors import NotificaError

__all__ = [
    "InvalidOtp",
    "InvalidSignature",
    "MalformedAdvertisement",
    "MalformedExport",
    "MalformedPayload",
    "MalformedWireMessage",
    "ProtocolError",
    "UnknownSigningKey",
    "UnsignedExport",
    "UnsupportedAlgorithm",
]


class ProtocolError(NotificaError):
    """Base class of the protocol layer's errors."""


class MalformedPayload(ProtocolError):
    """Bytes from outside that do not follow the format they claim."""


class MalformedAdvertisement(MalformedPayload):
    """A Bluetooth advertisement that is not a valid Exposure Notification payload."""


class MalformedExport(MalformedPayload):
    """A key-export file (zip, export.bin or export.sig) that cannot be read."""


class MalformedWireMessage(MalformedPayload):
    """A JSON message of the Immuni API that does not match its schema."""


class InvalidSignature(ProtocolError):
    """A signature that does not verify against the key it names."""


class UnknownSigningKey(InvalidSignature):
    """None of a file's signatures names a (key id, version) the caller has a public key for.

    A subclass of `InvalidSignature`, so that code which only asks "is this file authentic?"
    rejects it without knowing the difference.
    """


class UnsignedExport(InvalidSignature):
    """A key export that carries no signature (a bare export.bin or a zip without export.sig)."""


class UnsupportedAlgorithm(ProtocolError):
    """A signature algorithm or elliptic curve that the caller has not allowed."""


class InvalidOtp(ProtocolError):
    """An upload code that is not a valid Immuni OTP."""
