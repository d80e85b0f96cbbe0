"""The JSON wire format of the Immuni API: every request and response body.

This module (with `_wire_rules`: headers, TEK list rules, attestation nonce) is the single
definition of the format, shared by the server (which parses what
phones send) and the phone engine (which builds the same bodies). Field names, patterns and
bounds are Immuni's (immuni-api.md §2–§3, §7); each constant says where it comes from.

Rules:

1. Sans-IO. Dates that must lie in a window relative to *today* (immuni-api.md §2, ``IsoDate``)
   are checked only when the caller passes ``today`` to `parse_wire` (validation context);
   the models never read a clock.
2. Bodies are parsed with `parse_wire`, which raises only `MalformedWireMessage` naming the
   first field at fault. Unknown fields are ignored, as Immuni's clients may send extra ones
   (``transmission_risk_level`` in TEKs, which Immuni ignores).
3. JSON numbers are strict: ``"1"`` is not an integer and ``true`` is not ``1``.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, timedelta
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from notifica.protocol._intervals import TEK_ROLLING_PERIOD
from notifica.protocol._keys import KEY_LENGTH, TemporaryExposureKey
from notifica.protocol._provinces import ABROAD, ACCEPTED_PROVINCE_CODES, is_accepted_province_code
from notifica.protocol.errors import MalformedWireMessage

__all__ = [
    "ANALYTICS_TOKEN_PATTERN",
    "MAX_ISO_DATE_BACKWARD_DAYS",
    "MAX_KEYS_IN_UPLOAD_SCHEMA",
    "MAX_PADDING_SIZE",
    "OTP_TOKEN_PATTERN",
    "PROVINCE_PATTERN",
    "AppleOperationalInfoRequest",
    "AppleTokenRequest",
    "CheckOtpRequest",
    "ErrorBody",
    "ExposureDetectionSummaryPayload",
    "ExposureInfoPayload",
    "GoogleOperationalInfoRequest",
    "KeysIndex",
    "OperationalInfoFields",
    "OtpRequest",
    "TekPayload",
    "UploadRequest",
    "is_padding",
    "parse_wire",
]

MAX_PADDING_SIZE = 150_000
"""Longest ``padding`` string: ``MAX_PADDING_SIZE`` in ING core/config.py (immuni-api.md §3.3)."""

MAX_KEYS_IN_UPLOAD_SCHEMA = 9_999
"""Schema-level TEK list cap, ``len(teks) < MAX_KEYS_PER_BATCH`` = 10 000 (immuni-api.md §3.3);
the real per-upload cap (30) is the server's setting, checked by `validate_tek_list`."""

MAX_ROLLING_PERIOD_IN_SCHEMA = 1_000
"""Schema bound of ``rolling_period`` (``MAX_ROLLING_PERIOD``, immuni-api.md §3.3); the list
rule then requires 1..144 (§5.1)."""

MAX_ISO_DATE_BACKWARD_DAYS = 180
"""``MAX_ISO_DATE_BACKWARD_DIFF``: ISO dates may be at most this many days old (§2)."""

OTP_TOKEN_PATTERN = r"^[A-Za-z0-9]{64}$"  # noqa: S105 - a regex, not a secret
"""Bearer token of check-otp and upload: the SHA-256 hex of the OTP (immuni-api.md §3.3)."""

ANALYTICS_TOKEN_PATTERN = r"^[a-f0-9]{128}$"  # noqa: S105 - a regex
"""iOS analytics token: 128 lowercase hex characters (immuni-api.md §3.6)."""

PROVINCE_PATTERN = r"^[A-Z]{2}$"
"""Province code: two capital letters (immuni-api.md §3.3)."""

_PADDING_PATTERN = r"^[a-f0-9]*$"
_BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_ID_TEST_VERIFICATION_PATTERN = r"^[A-Fa-f0-9\-]{36}$"
_SHA256_HEX = re.compile(r"^[a-f0-9]{64}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_INT64_MAX = 2**63 - 1

M = TypeVar("M", bound=BaseModel)


def _decode_base64(value: object, *, expected_length: int | None, field: str) -> bytes:
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        if not _BASE64.match(value) or len(value) % 4:
            raise ValueError(f"{field} must be standard base64")
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"{field} must be standard base64") from exc
    else:
        raise ValueError(f"{field} must be a base64 string")
    if expected_length is not None and len(raw) != expected_length:
        raise ValueError(f"{field} must decode to {expected_length} bytes, got {len(raw)}")
    return raw


def _key_data(value: object) -> bytes:
    return _decode_base64(value, expected_length=KEY_LENGTH, field="key_data")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


KeyData = Annotated[
    bytes,
    BeforeValidator(_key_data),
    PlainSerializer(_b64, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[A-Za-z0-9+/]{22}==$", "description": "base64 of 16 bytes"}
    ),
]
_NOT_HEX = bytes(0 if byte in b"0123456789abcdef" else 1 for byte in range(256))


def is_padding(value: str) -> bool:
    """Whether `value` matches ``^[a-f0-9]{0,150000}$`` (immuni-api.md §3.3).

    Without a regex: a 110 kB padding is every ingestion request's bulk, and a table lookup
    per byte costs a tenth of matching the pattern character by character.
    """
    return (
        len(value) <= MAX_PADDING_SIZE
        and value.isascii()
        and b"\x01" not in value.encode("ascii").translate(_NOT_HEX)
    )


def _padding(value: str) -> str:
    if not is_padding(value):
        raise ValueError(f"padding must be at most {MAX_PADDING_SIZE} lowercase hex digits")
    return value


Padding = Annotated[
    str,
    AfterValidator(_padding),
    WithJsonSchema({"type": "string", "maxLength": MAX_PADDING_SIZE, "pattern": _PADDING_PATTERN}),
]


def _accepted_province(value: str) -> str:
    if not is_accepted_province_code(value):
        raise ValueError(f"{value!r} is not an Italian province code (nor {ABROAD!r}, abroad)")
    return value


ProvinceCode = Annotated[
    str,
    Field(pattern=PROVINCE_PATTERN),
    AfterValidator(_accepted_province),
    WithJsonSchema({"type": "string", "enum": sorted(ACCEPTED_PROVINCE_CODES)}),
]
"""Immuni checks only ``^[A-Z]{2}$``; notifica also refuses codes that are no province, so
that analytics per province hold only real ones (Android's ``EX``, abroad, is accepted)."""
CountryCode = Annotated[str, Field(pattern=PROVINCE_PATTERN)]
Flag = Annotated[int, Field(strict=True, ge=0, le=1)]
NonNegative = Annotated[int, Field(strict=True, ge=0, le=_INT64_MAX)]
AttenuationDurations = Annotated[list[NonNegative], Field(min_length=3, max_length=4)]


def _check_iso_date(value: date, info: ValidationInfo) -> date:
    """``IsoDate`` (immuni-api.md §2): not in the future, at most 180 days old."""
    context = info.context if isinstance(info.context, dict) else {}
    today = context.get("today")
    if isinstance(today, date):
        if value > today:
            raise ValueError(f"{info.field_name} {value} is in the future")
        if value < today - timedelta(days=MAX_ISO_DATE_BACKWARD_DAYS):
            raise ValueError(
                f"{info.field_name} {value} is more than {MAX_ISO_DATE_BACKWARD_DAYS} days old"
            )
    return value


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ErrorBody(_Wire):
    """The body of every error response (immuni-api.md §2)."""

    error_code: int
    message: str


class OtpRequest(_Wire):
    """``POST /v1/otp`` from the health operators' system (immuni-api.md §3.2).

    ``otp`` is a 10-character Immuni code; with ``id_test_verification`` (the 2021 CUN flow)
    it is instead the 64-hex SHA-256 of the code. The check character is verified by the
    server, which owns the OTP rules.
    """

    otp: Annotated[str, Field(min_length=10, max_length=64)]
    symptoms_started_on: Annotated[date, Field(strict=True)]
    id_test_verification: Annotated[str, Field(pattern=_ID_TEST_VERIFICATION_PATTERN)] | None = None

    _window = field_validator("symptoms_started_on")(_check_iso_date)

    @field_validator("otp")
    @classmethod
    def _otp_shape(cls, value: str) -> str:
        if len(value) > 10 and not _SHA256_HEX.match(value):
            raise ValueError("otp must be 10 characters, or a SHA-256 hex with a CUN")
        return value


class CheckOtpRequest(_Wire):
    """``POST /v1/ingestion/check-otp``: only padding (immuni-api.md §3.3)."""

    padding: Padding = ""


class TekPayload(_Wire):
    """One Temporary Exposure Key in an upload (immuni-api.md §3.3)."""

    key_data: KeyData
    rolling_start_number: NonNegative
    rolling_period: Annotated[int, Field(strict=True, ge=0, le=MAX_ROLLING_PERIOD_IN_SCHEMA)] = (
        TEK_ROLLING_PERIOD
    )

    def to_key(self, *, transmission_risk_level: int = 0) -> TemporaryExposureKey:
        """The protocol value type (call after `validate_tek_list` has accepted the list).

        Raises:
            ValueError: if the key does not fit a `TemporaryExposureKey`.
        """
        return TemporaryExposureKey(
            key_data=self.key_data,
            rolling_start_interval_number=self.rolling_start_number,
            rolling_period=self.rolling_period,
            transmission_risk_level=transmission_risk_level,
        )

    @classmethod
    def from_key(cls, key: TemporaryExposureKey) -> TekPayload:
        """The wire form of a key (its transmission risk is not sent: Immuni ignores it)."""
        return cls(
            key_data=key.key_data,
            rolling_start_number=key.rolling_start_interval_number,
            rolling_period=key.rolling_period,
        )


class ExposureInfoPayload(_Wire):
    """``ExposureInfo`` inside a summary (immuni-api.md §3.3)."""

    date: Annotated[date, Field(strict=True)]
    duration: NonNegative
    attenuation_value: NonNegative
    attenuation_durations: AttenuationDurations
    transmission_risk_level: Annotated[int, Field(strict=True, ge=0, le=8)]
    total_risk_score: NonNegative

    _window = field_validator("date")(_check_iso_date)


class ExposureDetectionSummaryPayload(_Wire):
    """``ExposureDetectionSummary`` (immuni-api.md §3.3)."""

    date: Annotated[date, Field(strict=True)]
    matched_key_count: NonNegative
    days_since_last_exposure: NonNegative
    attenuation_durations: AttenuationDurations
    maximum_risk_score: NonNegative
    exposure_info: list[ExposureInfoPayload] = Field(default_factory=list)

    _window = field_validator("date")(_check_iso_date)


class UploadRequest(_Wire):
    """``POST /v1/ingestion/upload`` (immuni-api.md §3.3).

    ``teks``, ``province`` and ``exposure_detection_summaries`` are required, as in Immuni's
    code (§12.6). A dummy upload carries only padding and is recognised by its header first.
    """

    teks: Annotated[list[TekPayload], Field(max_length=MAX_KEYS_IN_UPLOAD_SCHEMA)]
    province: ProvinceCode
    exposure_detection_summaries: list[ExposureDetectionSummaryPayload]
    countries_of_interest: Annotated[list[CountryCode], Field(max_length=27)] = Field(
        default_factory=list
    )
    padding: Padding = ""


class KeysIndex(_Wire):
    """``GET /v1/keys/index``: the first and last batch of the last 14 days (§3.5).

    Batch numbers are JSON integers from 1 (a string such as ``"1"`` is refused, not coerced).
    """

    oldest: Annotated[int, Field(strict=True, ge=1, le=_INT64_MAX)]
    newest: Annotated[int, Field(strict=True, ge=1, le=_INT64_MAX)]


class OperationalInfoFields(_Wire):
    """What both platforms report as operational info (immuni-api.md §3.6, §7.1)."""

    province: ProvinceCode
    exposure_permission: Flag
    bluetooth_active: Flag
    notification_permission: Flag
    exposure_notification: Flag
    last_risky_exposure_on: Annotated[date, Field(strict=True)]
    build: Annotated[int, Field(strict=True, ge=1, le=_INT64_MAX)] | None = None

    _window = field_validator("last_risky_exposure_on")(_check_iso_date)


class AppleOperationalInfoRequest(OperationalInfoFields):
    """``POST /v1/analytics/apple/operational-info`` (bearer: the analytics token)."""


class GoogleOperationalInfoRequest(OperationalInfoFields):
    """``POST /v1/analytics/google/operational-info`` with a SafetyNet-style attestation."""

    salt: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{21}[AQgw]==$")]
    signed_attestation: Annotated[str, Field(min_length=1, max_length=10_000)]

    @field_validator("salt")
    @classmethod
    def _salt_is_16_bytes(cls, value: str) -> str:
        _decode_base64(value, expected_length=16, field="salt")
        return value


class AppleTokenRequest(_Wire):
    """``POST /v1/analytics/apple/token`` (immuni-api.md §3.6)."""

    analytics_token: Annotated[str, Field(pattern=ANALYTICS_TOKEN_PATTERN)]
    device_token: Annotated[
        str,
        Field(
            min_length=4,
            max_length=10_000,
            pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        ),
    ]

    @field_validator("device_token")
    @classmethod
    def _device_token_is_base64(cls, value: str) -> str:
        _decode_base64(value, expected_length=None, field="device_token")
        return value


def parse_wire(model: type[M], data: bytes | str, *, today: date | None = None) -> M:
    """Parse a JSON body into `model`.

    Args:
        model: one of this module's request/response models.
        data: the raw JSON.
        today: when given, ``IsoDate`` fields must lie in [today − 180 days, today].

    Raises:
        MalformedWireMessage: naming the first field at fault and what was expected.
    """
    try:
        return model.model_validate_json(data, context={"today": today})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedWireMessage(f"{model.__name__}: {where}: {first['msg']}") from None
