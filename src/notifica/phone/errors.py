"""Errors of the phone engine.

    PhoneError                       base of everything below
    ├── ServerError                  the backend could not be used this time; retried next period
    │   ├── ServerUnreachable        connection refused or reset, DNS or TLS failure
    │   ├── ServerTimeout            no complete answer in time
    │   ├── ServerFailure            a 5xx answer
    │   └── BadServerResponse        an unexpected status, garbage JSON, a wrong schema, a bad
    │                                export file or an index that went backwards
    ├── UnauthorizedOtp              check-otp or upload answered 401: unknown, expired or used
    ├── OtpBackoff                   too soon after failed checks (``retry_after_s`` says when)
    ├── StoreError                   the local encrypted store
    │   ├── WrongStoreKey            the passphrase or key does not open this store
    │   └── StoreCorrupted           not a notifica store, or a record fails authentication
    ├── OnboardingError              an onboarding answer that is not acceptable (age, province)
    └── PhoneStateError              an event that the phone's current state does not allow

The engine maps every ``httpx`` exception to a `ServerError` at its boundary (``raise … from``),
so callers and the back-off logic see one tree. Caller misuse (a 15-byte RPI, a negative
RSSI count) stays ``TypeError`` / ``ValueError``.
"""

from __future__ import annotations

from notifica.errors import NotificaError

__all__ = [
    "BadServerResponse",
    "OnboardingError",
    "OtpBackoff",
    "PhoneError",
    "PhoneStateError",
    "ServerError",
    "ServerFailure",
    "ServerTimeout",
    "ServerUnreachable",
    "StoreCorrupted",
    "StoreError",
    "UnauthorizedOtp",
    "WrongStoreKey",
]


class PhoneError(NotificaError):
    """Base class of the phone engine's errors."""


class ServerError(PhoneError):
    """The backend could not be used this time; the phone keeps its state and retries later."""


class ServerUnreachable(ServerError):
    """The connection failed: refused, reset, name resolution or TLS verification."""


class ServerTimeout(ServerError):
    """The backend did not answer completely in time."""


class ServerFailure(ServerError):
    """The backend answered with a 5xx status."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class BadServerResponse(ServerError):
    """An answer the phone cannot use: unexpected status, garbage body, bad export file."""


class UnauthorizedOtp(PhoneError):
    """The backend does not know this OTP (not authorised yet, expired or already used)."""


class OtpBackoff(PhoneError):
    """Checking the OTP again is not allowed yet (Immuni's back-off, immuni-api.md §4.3)."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreError(PhoneError):
    """The local encrypted store cannot be used."""


class WrongStoreKey(StoreError):
    """The passphrase or key given does not open this store."""


class StoreCorrupted(StoreError):
    """The file is not a notifica phone store, or one of its records fails authentication."""


class OnboardingError(PhoneError):
    """An onboarding answer that cannot be accepted (age below 14, unknown province)."""


class PhoneStateError(PhoneError):
    """An event that the current state of the phone does not allow (see `notifica.phone`)."""
