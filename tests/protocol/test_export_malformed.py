"""Bad key exports get a MalformedExport that names the part and field, and nothing else."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import pytest

from notifica.protocol import (
    EXPORT_HEADER,
    ExportLimits,
    MalformedExport,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    read_export,
    write_export_bin,
)

KEY = TemporaryExposureKey(key_data=bytes(range(16)), rolling_start_interval_number=2650000)
EXPORT = TemporaryExposureKeyExport(
    start_timestamp=1, end_timestamp=2, region="222", keys=(KEY,) * 4
)
BIN = write_export_bin(EXPORT)


def make_zip(*entries: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=method) as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names tested here
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def test_reads_stored_and_deflated_zips_without_sig() -> None:
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        file = read_export(make_zip(("export.bin", BIN), method=method))
        assert file.export == EXPORT
        assert not file.has_signature_file


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a key export"),
        (b"GIF89a", "not a key export"),
        (b"EK Export v1", "not a key export"),  # 12 bytes: the header is 16
        (b"EK Export v1\x00\x00\x00\x00" + BIN[16:], "not a key export"),
        (b"ek export v1    " + BIN[16:], "not a key export"),
        (EXPORT_HEADER + b"\x0a\xff", "export.bin: not a valid protobuf"),
        (BIN[:-3], "export.bin: not a valid protobuf"),
        (EXPORT_HEADER + b"\x1a\x02\xff\xfe", "region is not valid UTF-8"),
    ],
)
def test_bare_export_bin_errors(data: bytes, message: str) -> None:
    with pytest.raises(MalformedExport, match=message):
        read_export(data)


def test_header_inside_a_zip_is_compared_whole() -> None:
    with pytest.raises(MalformedExport, match=r"export\.bin: header is"):
        read_export(make_zip(("export.bin", b"EK Export v2    " + BIN[16:])))
    with pytest.raises(MalformedExport, match=r"export\.bin: header is"):
        read_export(make_zip(("export.bin", b"")))


def test_truncated_zips_are_rejected_at_every_length() -> None:
    data = make_zip(("export.bin", BIN), ("export.sig", b""))
    for length in range(len(data)):
        with pytest.raises(MalformedExport):
            read_export(data[:length])


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((("export.sig", b""),), "no export.bin"),
        ((("export.bin", BIN), ("export.bin", BIN)), "more than once"),
        ((("export.bin", BIN), ("../export.sig", b"")), "unexpected entry"),
        ((("export.bin", BIN), ("content.sig", b"")), "unexpected entry 'content.sig'"),
    ],
)
def test_zip_entry_rules(entries: tuple[tuple[str, bytes], ...], message: str) -> None:
    data = make_zip(*entries)
    with pytest.raises(MalformedExport, match=message):
        read_export(data)


def test_extra_entries_are_skipped_when_allowed_without_being_inflated() -> None:
    # 8 MiB of zeros: over the export.sig cap, so it would fail if it were inflated.
    data = make_zip(("export.bin", BIN), ("export.sig", b""), ("junk", bytes(8 << 20)))
    file = read_export(data, allow_extra_entries=True, limits=ExportLimits(max_export_sig_bytes=10))
    assert file.ignored_entries == ("junk",)


def patch_central(data: bytes, offset_in_entry: int, fmt: str, value: int, entry: int = 0) -> bytes:
    position = -1
    for _ in range(entry + 1):
        position = data.index(b"PK\x01\x02", position + 1)
    out = bytearray(data)
    struct.pack_into(fmt, out, position + offset_in_entry, value)
    return bytes(out)


def test_declared_size_over_the_cap_is_refused_before_inflating() -> None:
    data = make_zip(("export.bin", BIN))
    limits = ExportLimits(max_export_bin_bytes=len(BIN) - 1)
    with pytest.raises(MalformedExport, match="at most"):
        read_export(data, limits=limits)


def test_zip_bomb_is_bounded_by_the_cap() -> None:
    # 16 MiB of zeros inflate from a few KiB; the central directory lies about the size.
    huge = EXPORT_HEADER + bytes(16 * 1024 * 1024)
    data = make_zip(("export.bin", huge))
    lying = patch_central(data, 24, "<I", 1000)  # uncompressed size field
    with pytest.raises(MalformedExport, match="does not inflate to exactly"):
        read_export(lying)
    with pytest.raises(MalformedExport, match="at most 1000000"):
        read_export(data, limits=ExportLimits(max_export_bin_bytes=1_000_000))


def test_corruption_is_caught_by_crc_and_inflate() -> None:
    data = bytearray(make_zip(("export.bin", BIN), method=zipfile.ZIP_STORED))
    data[data.index(BIN) + 40] ^= 0xFF
    with pytest.raises(MalformedExport, match="CRC-32"):
        read_export(bytes(data))
    deflated = make_zip(("export.bin", BIN * 50))
    compressed_at = deflated.index(b"export.bin") + len("export.bin")
    broken = bytearray(deflated)
    broken[compressed_at : compressed_at + 8] = b"\xff" * 8
    with pytest.raises(MalformedExport):
        read_export(bytes(broken))


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "message"),
    [
        (8, "<H", 1, "encrypted"),  # general-purpose flag bit 0
        (10, "<H", 14, "compression method 14"),  # LZMA
        (42, "<I", 10_000_000, "outside the file"),  # local header offset
    ],
)
def test_central_directory_fields_are_checked(
    offset: int, fmt: str, value: int, message: str
) -> None:
    data = patch_central(make_zip(("export.bin", BIN)), offset, fmt, value)
    with pytest.raises(MalformedExport, match=message):
        read_export(data)


def test_zip64_multidisk_and_too_many_entries_are_refused() -> None:
    data = make_zip(("export.bin", BIN))
    end = data.rindex(b"PK\x05\x06")
    zip64 = bytearray(data)
    struct.pack_into("<H", zip64, end + 10, 0xFFFF)
    with pytest.raises(MalformedExport):
        read_export(bytes(zip64))
    disk = bytearray(data)
    struct.pack_into("<H", disk, end + 4, 1)
    with pytest.raises(MalformedExport, match="multi-disk"):
        read_export(bytes(disk))
    many = make_zip(*((f"e{i}", b"") for i in range(20)), ("export.bin", BIN))
    with pytest.raises(MalformedExport, match="21 entries"):
        read_export(many, allow_extra_entries=True)


def test_trailing_bytes_after_the_zip_are_refused() -> None:
    with pytest.raises(MalformedExport, match="end-of-central-directory"):
        read_export(make_zip(("export.bin", BIN)) + b"trailer")


def test_file_size_cap_applies_to_both_forms() -> None:
    limits = ExportLimits(max_file_bytes=len(BIN) - 1)
    with pytest.raises(MalformedExport, match="at most"):
        read_export(BIN, limits=limits)
    with pytest.raises(MalformedExport, match=r"export\.bin is"):
        read_export(BIN, limits=ExportLimits(max_export_bin_bytes=20))


def test_export_sig_that_does_not_parse() -> None:
    with pytest.raises(MalformedExport, match=r"export\.sig: not a valid protobuf"):
        read_export(make_zip(("export.bin", BIN), ("export.sig", b"\x0a\x05\x0a")))
    with pytest.raises(MalformedExport, match=r"export\.sig"):
        read_export(
            make_zip(("export.bin", BIN), ("export.sig", b"x" * 100)),
            limits=ExportLimits(max_export_sig_bytes=10),
        )


def test_read_export_rejects_non_bytes() -> None:
    with pytest.raises(TypeError):
        read_export("EK Export v1    ")  # type: ignore[arg-type]


def key_message(fields: bytes) -> bytes:
    return b"\x3a" + bytes([len(fields)]) + fields


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (b"\x0a\x0f" + bytes(15), "key_data is 15 bytes"),
        (b"\x0a\x10" + bytes(16) + b"\x20\x00", "rolling_period is 0"),
        (b"\x0a\x10" + bytes(16) + b"\x20\x91\x01", "rolling_period is 145"),
        (b"\x0a\x10" + bytes(16) + b"\x10\x09", "transmission_risk_level is 9"),
        (b"\x0a\x10" + bytes(16) + b"\x18" + b"\xff" * 9 + b"\x01", "rolling_start_interval"),
    ],
)
def test_invalid_keys_are_skipped_one_by_one(fields: bytes, reason: str) -> None:
    good = key_message(b"\x0a\x10" + bytes(range(16)))
    data = EXPORT_HEADER + good + key_message(fields) + good
    file = read_export(data)
    assert len(file.key_batch) == 2
    (skipped,) = file.skipped_keys
    assert skipped.index == 1
    assert reason in skipped.reason
    assert list(file.keys.file_indices or []) == [0, 2]
    assert str(skipped).startswith("export.bin keys[1]: ")
