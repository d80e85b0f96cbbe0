"""Rules of the Immuni wire format beyond the body schemas: headers, the TEK list, the nonce.

Sans-IO like `_wire`: the current interval is an argument of `validate_tek_list`.
"""

from __future__ import annotations

import base64
import hashlib
import re

from notifica.protocol._intervals import TEK_ROLLING_PERIOD
from notifica.protocol._wire import OperationalInfoFields, TekPayload
from notifica.protocol.errors import MalformedWireMessage

__all__ = [
    "CLIENT_CLOCK_HEADER",
    "DUMMY_DATA_HEADER",
    "operational_info_nonce",
    "parse_bearer_token",
    "parse_client_clock",
    "parse_dummy_header",
    "validate_tek_list",
]

DUMMY_DATA_HEADER = "Immuni-Dummy-Data"
"""``0`` for a real request, ``1`` for a dummy one (immuni-api.md §2)."""

CLIENT_CLOCK_HEADER = "Immuni-Client-Clock"
"""Unix seconds of the phone's clock on upload; required, validated, unused (§3.3, §12.12)."""


def operational_info_nonce(info: OperationalInfoFields, salt: str) -> str:
    """The attestation nonce of an Android operational-info upload (immuni-api.md §7.4).

    ``base64(SHA-256(province + the four 0/1 flags + last_risky_exposure_on + salt))``.
    """
    text = (
        f"{info.province}{info.exposure_permission}{info.bluetooth_active}"
        f"{info.notification_permission}{info.exposure_notification}"
        f"{info.last_risky_exposure_on.isoformat()}{salt}"
    )
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def validate_tek_list(teks: list[TekPayload], *, now_interval: int, max_keys: int) -> None:
    """Immuni's TEK list rules (``TekListValidator``, immuni-api.md §5.1).

    At most `max_keys` keys; unique key data; unique (start, period) pairs; starts aligned to
    the earliest one modulo 144; each period 1..144; no key starting at or after
    `now_interval`. Non-consecutive keys are allowed (``ALLOW_NON_CONSECUTIVE_TEKS``).

    Raises:
        MalformedWireMessage: naming the rule broken.
    """
    if len(teks) > max_keys:
        raise MalformedWireMessage(f"teks: {len(teks)} keys, at most {max_keys} allowed")
    if len({tek.key_data for tek in teks}) != len(teks):
        raise MalformedWireMessage("teks: key_data values must be unique")
    if len({(tek.rolling_start_number, tek.rolling_period) for tek in teks}) != len(teks):
        raise MalformedWireMessage("teks: (rolling_start_number, rolling_period) must be unique")
    if not teks:
        return
    earliest = min(tek.rolling_start_number for tek in teks)
    for index, tek in enumerate(teks):
        if (tek.rolling_start_number - earliest) % TEK_ROLLING_PERIOD:
            raise MalformedWireMessage(
                f"teks.{index}.rolling_start_number: not aligned to 144 from the earliest key"
            )
        if not 1 <= tek.rolling_period <= TEK_ROLLING_PERIOD:
            raise MalformedWireMessage(f"teks.{index}.rolling_period: must be in 1..144")
        if tek.rolling_start_number >= now_interval:
            raise MalformedWireMessage(f"teks.{index}.rolling_start_number: in the future")


def parse_bearer_token(value: str | None, *, pattern: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header.

    Raises:
        MalformedWireMessage: if the header is missing or the token does not match `pattern`.
    """
    if value is None:
        raise MalformedWireMessage("Authorization: header missing")
    scheme, _, token = value.partition(" ")
    if scheme != "Bearer" or not re.match(pattern, token):
        raise MalformedWireMessage(f"Authorization: expected 'Bearer <token>' with {pattern}")
    return token


def parse_dummy_header(value: str | None) -> bool:
    """``Immuni-Dummy-Data``: ``"0"`` or ``"1"`` (immuni-api.md §2, ``IntegerBoolField``).

    Raises:
        MalformedWireMessage: if missing or anything else (``"true"``, ``""``...).
    """
    if value == "1":
        return True
    if value == "0":
        return False
    raise MalformedWireMessage(f"{DUMMY_DATA_HEADER}: expected 0 or 1")


def parse_client_clock(value: str | None) -> int:
    """``Immuni-Client-Clock``: an integer (Unix seconds); required, otherwise unused.

    Raises:
        MalformedWireMessage: if missing or not an integer.
    """
    if value is None or not re.fullmatch(r"-?[0-9]{1,19}", value):
        raise MalformedWireMessage(f"{CLIENT_CLOCK_HEADER}: expected an integer")
    return int(value)
