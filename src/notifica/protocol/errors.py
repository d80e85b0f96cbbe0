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

import enum

from notifica.errors import NotificaError

__all__ = [
    "InvalidOtp",
    "InvalidSignature",
    "MalformedAdvertisement",
    "MalformedExport",
    "MalformedPayload",
    "MalformedWireMessage",
    "OtpProblem",
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


class OtpProblem(enum.Enum):
    """What is wrong with a rejected OTP (immuni-api.md §4); values are stable for JSON."""

    LENGTH = "length"
    """Not 10 symbols once spaces and dashes are dropped."""
    CHARACTER = "character"
    """A character outside the 25-symbol alphabet (for example N, O or 0)."""
    CHECK_CHARACTER = "check_character"
    """The 10th character is not the check character of the first nine."""


class InvalidOtp(ProtocolError):
    """An upload code that is not a valid Immuni OTP.

    Besides the message, it says exactly what is wrong, for a form to point at it:

    - `problem`: an `OtpProblem`, or ``None`` when raised with a message only;
    - `length`: the number of characters after normalisation (spaces and dashes dropped);
    - `positions`: 1-based positions, in the normalised code, of every forbidden character
      (``CHARACTER``) or ``(10,)`` for ``CHECK_CHARACTER``; empty for ``LENGTH``;
    - `character`: the first offending character as typed (upper-cased);
    - `expected`: for ``CHECK_CHARACTER``, the check character the first nine call for.

    The message never repeats the whole code, so it can be logged.
    """

    def __init__(
        self,
        message: str,
        *,
        problem: OtpProblem | None = None,
        length: int | None = None,
        positions: tuple[int, ...] = (),
        character: str | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem
        self.length = length
        self.positions = positions
        self.character = character
        self.expected = expected

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the attributes across pickling (process pools, xdist), not just the message.
        return _rebuild_invalid_otp, (self.message, self.__dict__.copy())

    @property
    def position(self) -> int | None:
        """The first position at fault (1-based), or ``None`` for a length problem."""
        return self.positions[0] if self.positions else None


def _rebuild_invalid_otp(message: str, attributes: dict[str, object]) -> InvalidOtp:
    error = InvalidOtp(message)
    error.__dict__.update(attributes)
    return error
