"""The zip container of key exports: a strict, bounded reader and a deterministic writer.

protocol.md §12.1: a GAEN export is a zip with exactly the entries ``export.bin`` and
``export.sig``, DEFLATE-compressed. The reader is written for that case only, so that every
size is checked before anything is allocated:

- the end-of-central-directory record must close the input; multi-disk and zip64 archives are
  refused (no export is anywhere near 4 GiB);
- at most `ExportLimits.max_zip_entries` entries, each STORED or DEFLATE, not encrypted, with a
  unique name; the local header must agree with the central directory;
- an entry is inflated with its declared size (capped) as the output bound, and must then end,
  match that size and its CRC-32. A zip bomb costs at most the cap, never a hang.

Entries other than export.bin and export.sig make Google's ``ProvideDiagnosisKeys`` ("Invalid key
file entry") and microG ("Unexpected entry") reject the whole zip, and so does this reader,
unless the caller passes ``allow_extra_entries=True``: then they are listed and never inflated.

The writer uses `zipfile` with every variable field pinned (1980-01-01 timestamps, Unix
attributes 0644), so the same export gives the same bytes with the same zlib.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from notifica.protocol._export_types import ExportLimits
from notifica.protocol.errors import MalformedExport

__all__ = ["EXPORT_BIN_NAME", "EXPORT_SIG_NAME", "ZipContents", "read_zip", "write_zip"]

EXPORT_BIN_NAME = "export.bin"
EXPORT_SIG_NAME = "export.sig"
"""Entry names (ENS ``exportBinaryName`` / ``exportSignatureName``; protocol.md §12.1)."""

_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_EOCD_SIG, _CENTRAL_SIG, _LOCAL_SIG = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
_STORED, _DEFLATED = 0, 8
_FLAG_ENCRYPTED, _FLAG_UTF8 = 0x0001, 0x0800
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_DEFLATE_LEVEL = 6
"""zlib's default. Key bytes are random; what compresses is the protobuf framing around them,
which the default level already finds (a 10⁶-key export.bin of 30 MB zips to 18 MB)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    raw_name: bytes
    method: int
    crc: int
    compressed_size: int
    size: int
    local_offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipContents:
    """The two entries a key export uses, and the names of any other entries it skipped."""

    export_bin: bytes
    export_sig: bytes | None
    ignored_entries: tuple[str, ...]


def _fail(message: str) -> MalformedExport:
    return MalformedExport(f"zip: {message}")


def _end_record(data: bytes) -> tuple[int, tuple[int, ...]]:
    """The position and fields of the end-of-central-directory record that closes `data`."""
    floor = max(0, len(data) - _EOCD.size - _MAX_COMMENT)
    position = len(data)
    while (position := data.rfind(_EOCD_SIG, floor, position)) >= 0:
        if position + _EOCD.size <= len(data):
            fields = _EOCD.unpack_from(data, position)
            if position + _EOCD.size + fields[7] == len(data):
                return position, fields
    raise _fail("no end-of-central-directory record at the end of the file (truncated?)")


def _central_directory(data: bytes, limits: ExportLimits) -> tuple[list[_Entry], int]:
    """The entries, and the offset of the directory (every entry's data lies before it)."""
    end, (_, disk, cd_disk, disk_entries, entries, cd_size, cd_offset, _) = _end_record(data)
    if disk != 0 or cd_disk != 0 or disk_entries != entries:
        raise _fail("multi-disk archives are not supported")
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise _fail("zip64 archives are not supported (an export is far below 4 GiB)")
    if entries > limits.max_zip_entries:
        raise _fail(f"{entries} entries, at most {limits.max_zip_entries} allowed")
    if cd_offset + cd_size > end:
        raise _fail("central directory runs past the end-of-directory record")
    result, position, stop = [], cd_offset, cd_offset + cd_size
    for _ in range(entries):
        if position + _CENTRAL.size > stop:
            raise _fail("central directory is truncated")
        fields = _CENTRAL.unpack_from(data, position)
        signature, flags, method, crc, compressed, size = (fields[i] for i in (0, 3, 4, 7, 8, 9))
        name_len, extra_len, comment_len, local_offset = (fields[i] for i in (10, 11, 12, 16))
        if signature != _CENTRAL_SIG:
            raise _fail(f"bad central directory entry signature at offset {position}")
        name_end = position + _CENTRAL.size + name_len
        raw_name = data[position + _CENTRAL.size : name_end]
        position = name_end + extra_len + comment_len
        if position > stop:
            raise _fail("central directory entry runs past the directory")
        try:
            name = raw_name.decode("utf-8" if flags & _FLAG_UTF8 else "cp437")
        except UnicodeDecodeError as exc:
            raise _fail(f"entry name {raw_name!r} is not valid UTF-8") from exc
        if flags & _FLAG_ENCRYPTED:
            raise _fail(f"entry {name!r} is encrypted")
        if method not in (_STORED, _DEFLATED):
            raise _fail(f"entry {name!r} uses compression method {method}, not DEFLATE")
        result.append(_Entry(name, raw_name, method, crc, compressed, size, local_offset))
    if position != stop:
        raise _fail("central directory size does not match its entries")
    return result, cd_offset


def _inflate(data: bytes, entry: _Entry, cap: int, data_end: int) -> bytes:
    if entry.size > cap:
        raise _fail(f"entry {entry.name!r} declares {entry.size} bytes, at most {cap} allowed")
    if entry.local_offset + _LOCAL.size > data_end:
        raise _fail(f"local header of {entry.name!r} is outside the file")
    local = _LOCAL.unpack_from(data, entry.local_offset)
    if local[0] != _LOCAL_SIG:
        raise _fail(f"bad local header signature for {entry.name!r}")
    start = entry.local_offset + _LOCAL.size + local[9] + local[10]
    if data[entry.local_offset + _LOCAL.size : entry.local_offset + _LOCAL.size + local[9]] != (
        entry.raw_name
    ) or (local[3] != entry.method):
        raise _fail(f"local header of {entry.name!r} disagrees with the central directory")
    end = start + entry.compressed_size
    if end > data_end:
        raise _fail(f"data of {entry.name!r} runs past the end of the file (truncated?)")
    compressed = data[start:end]
    if entry.method == _STORED:
        content = compressed
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(compressed, entry.size + 1)
        except zlib.error as exc:
            raise _fail(f"entry {entry.name!r} is not valid DEFLATE data: {exc}") from exc
        if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
            raise _fail(
                f"entry {entry.name!r} does not inflate to exactly its declared {entry.size} bytes"
            )
    if len(content) != entry.size:
        raise _fail(f"entry {entry.name!r} holds {len(content)} bytes, declares {entry.size}")
    if zlib.crc32(content) != entry.crc:
        raise _fail(f"entry {entry.name!r} fails its CRC-32 check (corrupted)")
    return content


def read_zip(data: bytes, *, limits: ExportLimits, allow_extra_entries: bool) -> ZipContents:
    """The export.bin and export.sig entries of a key-export zip.

    Raises:
        MalformedExport: a broken or hostile zip, a missing export.bin, a duplicate entry, an
            oversized entry, or (unless `allow_extra_entries`) any entry with another name.
    """
    entries, data_end = _central_directory(data, limits)
    names = [entry.name for entry in entries]
    for name in names:
        if names.count(name) > 1:
            raise _fail(f"entry {name!r} appears more than once")
    by_name = {entry.name: entry for entry in entries}
    ignored = tuple(name for name in names if name not in (EXPORT_BIN_NAME, EXPORT_SIG_NAME))
    if ignored and not allow_extra_entries:
        raise _fail(
            f"unexpected entry {ignored[0]!r}: a key export holds only export.bin and "
            "export.sig, and GAEN readers reject any other entry"
        )
    if EXPORT_BIN_NAME not in by_name:
        raise _fail("no export.bin entry")
    export_bin = _inflate(data, by_name[EXPORT_BIN_NAME], limits.max_export_bin_bytes, data_end)
    sig_entry = by_name.get(EXPORT_SIG_NAME)
    export_sig = (
        None
        if sig_entry is None
        else _inflate(data, sig_entry, limits.max_export_sig_bytes, data_end)
    )
    return ZipContents(export_bin=export_bin, export_sig=export_sig, ignored_entries=ignored)


def write_zip(entries: Sequence[tuple[str, bytes]]) -> bytes:
    """A DEFLATE zip of `entries` (name, content), byte-identical for identical input."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the host, so the bytes do not vary
            info.external_attr = 0o100644 << 16
            archive.writestr(info, content, compresslevel=_DEFLATE_LEVEL)
    return buffer.getvalue()
