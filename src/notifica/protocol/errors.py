"""Errors of the sans-IO protocol layer.

    ProtocolError                    base of everything below
    ├── MalformedPayload             outside bytes that do not parse (says which field and why)
    │   ├── MalformedAdvertisement   a Bluetooth advertisement
    │   ├── MalformedExport          a key-export zip, export.bin or export.sig
    │   └── MalformedWireMessage     a JSON body of the Immuni API
    ├── InvalidSignature             a signature that does not verify
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


class UnsupportedAlgorithm(ProtocolError):
    """A signature algorithm or elliptic curve that the caller has not allowed."""


class InvalidOtp(ProtocolError):
    """An upload code that is not a valid Immuni OTP."""
