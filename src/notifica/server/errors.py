"""Errors of the backend: each one is an Immuni error response.

    NotificaError
    └── ApiError                      status_code, error_code, message (immuni-api.md §2)
        ├── UnknownError              500 / 1000  anything unexpected
        ├── SchemaError               400 / 1001  body, query or header not as the schema says
        │   └── RequestTooLarge       413 / 1001  body over the hard size cap (notifica)
        ├── UnauthorizedOtp           401 / 1101  unknown, expired or used OTP: one case
        ├── BatchNotFound             404 / 1300
        ├── NoBatchesFound            404 / 1301
        ├── OtpAlreadyAuthorized      409 / 1400
        ├── Unauthenticated           401 / 1402  HIS call without valid credentials (notifica)
        ├── TooManyRequests           429 / 1429  a rate limit was hit (notifica)
        └── ServiceUnavailable        503 / 1503  not available here (notifica)

Routers never build error responses themselves: they raise these, and one handler renders
``{"error_code": ..., "message": ...}``. The message is always the class default, as in Immuni
(details stay in the ``detail`` attribute for logs and tests, never in the response). Codes marked
"notifica" do not exist in Immuni; they are listed in docs/server.md.
"""

from __future__ import annotations

from typing import ClassVar

from notifica.errors import NotificaError

__all__ = [
    "ApiError",
    "BatchNotFound",
    "NoBatchesFound",
    "OtpAlreadyAuthorized",
    "RequestTooLarge",
    "SchemaError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthenticated",
    "UnauthorizedOtp",
    "UnknownError",
]


class ApiError(NotificaError):
    """An error with its HTTP status, Immuni error code and fixed public message."""

    status_code: ClassVar[int] = 500
    error_code: ClassVar[int] = 1000
    message: ClassVar[str] = "An unknown error occurred."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.message)
        self.detail = detail or self.message

    def body(self) -> dict[str, int | str]:
        """The JSON error body."""
        return {"error_code": self.error_code, "message": self.message}


class UnknownError(ApiError):
    """Anything that was not foreseen."""


class SchemaError(ApiError):
    """The request does not follow the schema (body, query arguments or headers)."""

    status_code, error_code, message = 400, 1001, "Request not compliant with the defined schema."


class RequestTooLarge(SchemaError):
    """The body is larger than the hard cap; it was not read to the end."""

    status_code = 413


class UnauthorizedOtp(ApiError):
    """The OTP is unknown, expired or already used: deliberately one case."""

    status_code, error_code, message = 401, 1101, "Unauthorized OTP."


class BatchNotFound(ApiError):
    """No batch with that index."""

    status_code, error_code, message = 404, 1300, "Batch not found."


class NoBatchesFound(ApiError):
    """No batch in the index window."""

    status_code, error_code, message = 404, 1301, "No batches found."


class OtpAlreadyAuthorized(ApiError):
    """The OTP is already authorised and still alive."""

    status_code, error_code, message = 409, 1400, "OTP already authorized."


class Unauthenticated(ApiError):
    """A call to the health operators' API without valid credentials."""

    status_code, error_code, message = 401, 1402, "Unauthenticated."


class TooManyRequests(ApiError):
    """A rate limit was reached; try again later."""

    status_code, error_code, message = 429, 1429, "Too many requests."


class ServiceUnavailable(ApiError):
    """The service needed is not available in this deployment."""

    status_code, error_code, message = 503, 1503, "Service unavailable."
