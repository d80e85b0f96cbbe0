"""Sightings as columns: what scanning records and detection matches, N at a time.

protocol.md §9.1: a scan record keeps, per received RPI, the time of the scan, the RSSI of each
packet and the start time of the previous scan (0 when unknown), plus the AEM. Here each row
is one received packet: ``rpi`` (16 bytes), ``aem`` (4 bytes), the calibrated RSSI (dBm,
protocol.md §8.3: ``rssi + rssi_offset`` clamped to −127..126), the scan time and the previous
scan time. Rows of one scan share their times, which is how v1 scoring merges a scan and v2
builds one ScanInstance per scan (protocol.md §13.4, §14.3).

Columns are contiguous buffers (bytes for the identifiers, numpy arrays for the numbers) so
that a simulator can hold thousands of phones' sightings and matching can scan them without
building one object per packet.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.protocol import METADATA_LENGTH, RPI_LENGTH

__all__ = ["SightingColumns", "calibrate_rssi"]

RSSI_MIN_DBM, RSSI_MAX_DBM = -127, 126
"""Bounds of an adjusted RSSI (INT ``BleScannerImpl.getAdjustedRssi``, protocol.md §8.3)."""

_HEADER = struct.Struct("<4sI")
_MAGIC = b"SGT1"


def calibrate_rssi(rssi_dbm: npt.ArrayLike, rssi_correction_db: int) -> npt.NDArray[np.int16]:
    """``rssi + correction`` clamped to −127..126, as GMS adjusts each scanned packet."""
    raw = np.asarray(rssi_dbm, dtype=np.int32)
    return np.clip(raw + rssi_correction_db, RSSI_MIN_DBM, RSSI_MAX_DBM).astype(np.int16)


@dataclass(frozen=True, slots=True, eq=False)
class SightingColumns:
    """N received packets. ``previous_scan_unix_s`` is 0 where the previous scan is unknown."""

    rpis: bytes
    aems: bytes
    rssi_dbm: npt.NDArray[np.int16]
    unix_s: npt.NDArray[np.int64]
    previous_scan_unix_s: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if not isinstance(self.rpis, bytes) or not isinstance(self.aems, bytes):
            raise TypeError("rpis and aems must be bytes")
        count, rest = divmod(len(self.rpis), RPI_LENGTH)
        if rest:
            raise ValueError(f"rpis must be a multiple of {RPI_LENGTH} bytes")
        if len(self.aems) != count * METADATA_LENGTH:
            raise ValueError(f"aems must be {METADATA_LENGTH} bytes per RPI ({count} RPIs)")
        for name, dtype in (
            ("rssi_dbm", np.int16),
            ("unix_s", np.int64),
            ("previous_scan_unix_s", np.int64),
        ):
            column = getattr(self, name)
            if not isinstance(column, np.ndarray) or column.dtype != dtype or column.ndim != 1:
                raise TypeError(f"{name} must be a 1-D numpy array of {np.dtype(dtype).name}")
            if len(column) != count:
                raise ValueError(f"{name} has {len(column)} entries for {count} sightings")

    @classmethod
    def build(
        cls,
        *,
        rpis: bytes,
        aems: bytes,
        rssi_dbm: npt.ArrayLike,
        unix_s: npt.ArrayLike,
        previous_scan_unix_s: npt.ArrayLike,
    ) -> SightingColumns:
        """Columns from any array-likes (scalars are broadcast to every row)."""
        count = len(rpis) // RPI_LENGTH
        return cls(
            rpis=bytes(rpis),
            aems=bytes(aems),
            rssi_dbm=np.broadcast_to(np.asarray(rssi_dbm, dtype=np.int16), (count,)).copy(),
            unix_s=np.broadcast_to(np.asarray(unix_s, dtype=np.int64), (count,)).copy(),
            previous_scan_unix_s=np.broadcast_to(
                np.asarray(previous_scan_unix_s, dtype=np.int64), (count,)
            ).copy(),
        )

    @classmethod
    def empty(cls) -> SightingColumns:
        return cls.build(rpis=b"", aems=b"", rssi_dbm=[], unix_s=[], previous_scan_unix_s=[])

    @classmethod
    def concatenate(cls, parts: Sequence[SightingColumns]) -> SightingColumns:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            rpis=b"".join(p.rpis for p in parts),
            aems=b"".join(p.aems for p in parts),
            rssi_dbm=np.concatenate([p.rssi_dbm for p in parts]),
            unix_s=np.concatenate([p.unix_s for p in parts]),
            previous_scan_unix_s=np.concatenate([p.previous_scan_unix_s for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.rpis) // RPI_LENGTH

    def rpi_at(self, index: int) -> bytes:
        return self.rpis[index * RPI_LENGTH : (index + 1) * RPI_LENGTH]

    def aem_at(self, index: int) -> bytes:
        return self.aems[index * METADATA_LENGTH : (index + 1) * METADATA_LENGTH]

    def select(self, mask: npt.NDArray[np.bool_]) -> SightingColumns:
        """The rows where `mask` is true, in order."""
        if mask.all():
            return self
        rpis = np.frombuffer(self.rpis, dtype=np.uint8).reshape(-1, RPI_LENGTH)[mask]
        aems = np.frombuffer(self.aems, dtype=np.uint8).reshape(-1, METADATA_LENGTH)[mask]
        return SightingColumns(
            rpis=rpis.tobytes(),
            aems=aems.tobytes(),
            rssi_dbm=self.rssi_dbm[mask],
            unix_s=self.unix_s[mask],
            previous_scan_unix_s=self.previous_scan_unix_s[mask],
        )

    def since(self, unix_s: int) -> SightingColumns:
        """The rows recorded at or after `unix_s`."""
        return self.select(self.unix_s >= unix_s)

    def to_bytes(self) -> bytes:
        """A compact little-endian encoding (the plaintext of one sealed store block)."""
        return b"".join(
            (
                _HEADER.pack(_MAGIC, len(self)),
                self.rpis,
                self.aems,
                self.rssi_dbm.astype("<i2").tobytes(),
                self.unix_s.astype("<i8").tobytes(),
                self.previous_scan_unix_s.astype("<i8").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SightingColumns:
        """Decode `to_bytes` output.

        Raises:
            ValueError: if `data` is not such an encoding.
        """
        if len(data) < _HEADER.size:
            raise ValueError("sighting block too short")
        magic, count = _HEADER.unpack_from(data)
        sizes = (RPI_LENGTH * count, METADATA_LENGTH * count, 2 * count, 8 * count, 8 * count)
        if magic != _MAGIC or len(data) != _HEADER.size + sum(sizes):
            raise ValueError("not a sighting block")
        offset = _HEADER.size
        parts = []
        for size in sizes:
            parts.append(data[offset : offset + size])
            offset += size
        return cls(
            rpis=parts[0],
            aems=parts[1],
            rssi_dbm=np.frombuffer(parts[2], dtype="<i2").astype(np.int16),
            unix_s=np.frombuffer(parts[3], dtype="<i8").astype(np.int64),
            previous_scan_unix_s=np.frombuffer(parts[4], dtype="<i8").astype(np.int64),
        )
