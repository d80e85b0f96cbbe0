"""The privacy auditor: looks for identifying strings in a backend's database, logs and
batches, and for values that an upload and an analytics record share.

Kept apart from the test so that a test of the auditor itself (a planted address must be
found) shows that the audit can fail.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from notifica.server.repository import normalise_url

__all__ = [
    "ANALYTICS_TABLES",
    "UPLOAD_TABLES",
    "Leak",
    "coarse_time_violations",
    "dump_database",
    "find_leaks",
    "identifier_values",
    "log_texts",
    "needles_for",
]

UPLOAD_TABLES = ("otps", "otp_log", "pending_keys", "upload_log", "exposure_payloads", "batches")
ANALYTICS_TABLES = ("operational_info", "analytics_token_slots", "used_salts")
CITIZEN_TIME_COLUMNS = {("pending_keys", "received_at")}
"""Times of citizen records, which must be coarse (the hour at most, tables.py)."""
IPV4 = re.compile(
    rb"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
CLIENT_SIDE_LOGGERS = ("notifica.phone", "httpx", "httpcore")
"""Loggers of the phones and their HTTP client: they run on the citizen's device."""


@dataclass(frozen=True)
class Leak:
    where: str
    what: str


def needles_for(label: str, value: str) -> dict[str, bytes]:
    """`value` as it might be stored: in clear (any case) and as a bare SHA-256."""
    return {
        f"{label} in clear": value.encode(),
        f"{label} as SHA-256": hashlib.sha256(value.encode()).hexdigest().encode(),
    }


def dump_database(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (reflected, so a table added later is audited too)."""
    engine = sa.create_engine(normalise_url(url))
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        rows = {
            name: [dict(row._mapping) for row in conn.execute(sa.select(table))]
            for name, table in meta.tables.items()
        }
    engine.dispose()
    return rows


def _cell_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str).encode()
    return str(value).encode()


def _batch_bytes(content: bytes) -> Iterator[tuple[str, bytes]]:
    yield "zip", content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            yield name, archive.read(name)


def database_haystacks(dump: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, bytes]]:
    """Each cell as bytes; batches also unzipped (export.bin is compressed in the zip)."""
    for table, rows in dump.items():
        for number, row in enumerate(rows):
            for column, value in row.items():
                where = f"db {table}.{column} row {number}"
                if table == "batches" and column == "content":
                    for member, data in _batch_bytes(bytes(value)):
                        yield f"{where} ({member})", data
                else:
                    yield where, _cell_bytes(value)


def log_texts(records: Iterable[logging.LogRecord]) -> Iterator[tuple[str, bytes]]:
    """Server-side log records: the message with its arguments, and every extra attribute."""
    plain = set(vars(logging.makeLogRecord({})))
    for record in records:
        if record.name.startswith(CLIENT_SIDE_LOGGERS):
            continue
        text = [record.getMessage()]
        text += [f"{k}={v}" for k, v in vars(record).items() if k not in plain]
        if record.exc_info:
            text.append(logging.Formatter().formatException(record.exc_info))
        yield f"log {record.name}:{record.levelname}", "\n".join(text).encode()


def find_leaks(
    haystacks: Iterable[tuple[str, bytes]],
    needles: dict[str, bytes],
    *,
    addresses: bool = True,
) -> list[Leak]:
    """Needles found (case-insensitively), plus any IPv4 address when `addresses`."""
    lowered = {what: needle.lower() for what, needle in needles.items()}
    leaks: list[Leak] = []
    for where, data in haystacks:
        low = data.lower()
        leaks += [Leak(where, what) for what, needle in lowered.items() if needle in low]
        if addresses and not where.endswith(("(export.bin)", "(export.sig)", "(zip)")):
            leaks += [Leak(where, f"IPv4 {m.decode()}") for m in IPV4.findall(data)]
    return leaks


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def identifier_values(
    dump: dict[str, list[dict[str, Any]]], tables: Iterable[str]
) -> dict[bytes, str]:
    """Values that could link two records: strings or bytes of 8+ characters, integers
    beyond 32 bits (surrogate ``id`` columns aside: each table counts on its own)."""
    found: dict[bytes, str] = {}
    for table in tables:
        for row in dump.get(table, []):
            for column, value in row.items():
                if column == "id":
                    continue
                for leaf in _leaves(value):
                    if isinstance(leaf, bool | date | datetime | float):
                        continue
                    if isinstance(leaf, int) and abs(leaf) < 2**32:
                        continue
                    data = _cell_bytes(leaf)
                    if isinstance(leaf, int) or len(data) >= 8:
                        found.setdefault(data, f"{table}.{column}")
    return found


def coarse_time_violations(dump: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Citizen-record times finer than the hour."""
    bad = []
    for table, column in CITIZEN_TIME_COLUMNS:
        for row in dump.get(table, []):
            moment = row[column]
            if isinstance(moment, str):
                moment = datetime.fromisoformat(moment)
            if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
                bad.append(f"{table}.{column} = {moment}")
    return bad
