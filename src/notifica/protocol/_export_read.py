"""Reading key exports: a zip or a bare export.bin in, an `ExportFile` out.

Rules (protocol.md §12, §12.11, §16.1):

- The input is a zip if it starts with ``PK``, an export.bin if it starts with the 16-byte
  header; anything else is refused. The header is compared whole, never stripped.
- Sizes are capped (`ExportLimits`) before anything is inflated or parsed.
- The protobuf is parsed by upb with proto2 semantics: an absent ``rolling_period`` is 144,
  unknown fields (ENS's ``variant_of_concern``) are ignored, the legacy SignatureInfo fields
  1 and 2 are read when present.
- A key that cannot be a `TemporaryExposureKey` (the Dutch test file's 53-byte key, a period
  of 0) is skipped with its reason in `ExportFile.skipped_keys`; the rest of the file is used,
  as Google's matcher does. Whether to trust the file at all is `verify_export`'s question.
- Only `MalformedExport` comes out for bad bytes; its message names the part of the file (zip,
  export.bin, export.sig), the field and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from notifica.protocol import _export_pb2 as pb
from notifica.protocol._export_columns import KeyColumns, read_key_columns
from notifica.protocol._export_types import (
    EXPORT_HEADER,
    ExportLimits,
    ExportMetadata,
    SignatureInfo,
    SkippedKey,
    TEKSignature,
    TemporaryExposureKeyExport,
)
from notifica.protocol._export_zip import read_zip
from notifica.protocol._key_batch import DiagnosisKeyBatch
from notifica.protocol.errors import MalformedExport

__all__ = ["ExportFile", "read_export"]

_ZIP_MAGIC = b"PK"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ExportFile:
    """A parsed key export. Build it with `read_export`.

    `export_bin` is kept whole because signatures cover it whole. `keys` / `revised_keys` hold
    the valid keys as columns (cheap for 10⁶ keys); `export` builds value objects for all of
    them (about 5 µs a key: for small files, tests and display).
    """

    metadata: ExportMetadata
    export_bin: bytes
    signatures: tuple[TEKSignature, ...]
    has_signature_file: bool
    is_zip: bool
    keys: KeyColumns
    revised_keys: KeyColumns
    skipped_keys: tuple[SkippedKey, ...] = ()
    ignored_entries: tuple[str, ...] = ()
    _export: list[TemporaryExposureKeyExport] = field(default_factory=list, repr=False)

    @property
    def key_batch(self) -> DiagnosisKeyBatch:
        """The valid (first-release) keys, columnar, for derivation and matching."""
        return self.keys.batch

    @property
    def revised_key_batch(self) -> DiagnosisKeyBatch:
        """The valid revised keys (API v1.5), columnar."""
        return self.revised_keys.batch

    @property
    def export(self) -> TemporaryExposureKeyExport:
        """The whole export as value objects (built on first use, then kept)."""
        if not self._export:
            meta = self.metadata
            self._export.append(
                TemporaryExposureKeyExport(
                    start_timestamp=meta.start_timestamp,
                    end_timestamp=meta.end_timestamp,
                    region=meta.region,
                    batch_num=meta.batch_num,
                    batch_size=meta.batch_size,
                    signature_infos=meta.signature_infos,
                    keys=self.keys.to_keys(),
                    revised_keys=self.revised_keys.to_keys(),
                )
            )
        return self._export[0]


def _text(part: str, message: Any, name: str) -> str:
    # proto2 strings are not checked while parsing: upb hands back bytes, older runtimes raise.
    try:
        value = getattr(message, name)
    except UnicodeDecodeError as exc:
        raise MalformedExport(f"{part}: {name} is not valid UTF-8") from exc
    if not isinstance(value, str):
        raise MalformedExport(f"{part}: {name} is not valid UTF-8")
    return value


def _signature_info(part: str, message: Any) -> SignatureInfo:
    def optional(name: str) -> str | None:
        return _text(part, message, name) if message.HasField(name) else None

    return SignatureInfo(
        verification_key_id=_text(part, message, "verification_key_id"),
        verification_key_version=_text(part, message, "verification_key_version"),
        signature_algorithm=_text(part, message, "signature_algorithm"),
        app_bundle_id=optional("app_bundle_id"),
        android_package=optional("android_package"),
    )


def _parse(part: str, message: Any, data: bytes | memoryview) -> None:
    try:
        message.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        what = type(message).__name__
        raise MalformedExport(f"{part}: not a valid protobuf {what} ({exc})") from exc


def _read_signatures(export_sig: bytes) -> tuple[TEKSignature, ...]:
    message = pb.TEKSignatureList()
    _parse("export.sig", message, export_sig)
    return tuple(
        TEKSignature(
            signature_info=(
                _signature_info("export.sig", entry.signature_info)
                if entry.HasField("signature_info")
                else None
            ),
            batch_num=entry.batch_num,
            batch_size=entry.batch_size,
            signature=entry.signature,
        )
        for entry in message.signatures
    )


def _split_input(
    data: bytes, limits: ExportLimits, allow_extra_entries: bool
) -> tuple[bytes, bytes | None, bool, tuple[str, ...]]:
    if len(data) > limits.max_file_bytes:
        raise MalformedExport(f"file is {len(data)} bytes, at most {limits.max_file_bytes} allowed")
    if data.startswith(_ZIP_MAGIC):
        contents = read_zip(data, limits=limits, allow_extra_entries=allow_extra_entries)
        return contents.export_bin, contents.export_sig, True, contents.ignored_entries
    if data.startswith(EXPORT_HEADER):
        if len(data) > limits.max_export_bin_bytes:
            raise MalformedExport(
                f"export.bin is {len(data)} bytes, at most {limits.max_export_bin_bytes} allowed"
            )
        return data, None, False, ()
    raise MalformedExport(
        "not a key export: expected a zip (starting with 'PK') or an export.bin (starting "
        f"with the 16-byte header {EXPORT_HEADER.decode()!r}), got {data[:16]!r}"
    )


def read_export(
    data: bytes,
    *,
    allow_extra_entries: bool = False,
    limits: ExportLimits | None = None,
) -> ExportFile:
    """Parse a key-export zip or a bare export.bin.

    Args:
        data: the file's bytes.
        allow_extra_entries: skip zip entries other than export.bin and export.sig instead of
            refusing the zip as Google and microG do (their names end up in
            `ExportFile.ignored_entries`).
        limits: size caps; the defaults suit files of up to about 1.8 million keys.

    Returns:
        The parsed file; invalid keys are left out of its key columns and listed in
        `skipped_keys`. Nothing about the signature is checked here (see `verify_export`).

    Raises:
        MalformedExport: the bytes are not a key export, are truncated or corrupted, or exceed
            a limit. The message names the part and field at fault.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    limits = limits or ExportLimits()
    export_bin, export_sig, is_zip, ignored = _split_input(bytes(data), limits, allow_extra_entries)
    header = export_bin[: len(EXPORT_HEADER)]
    if header != EXPORT_HEADER:
        raise MalformedExport(
            f"export.bin: header is {header!r}, expected the 16 bytes {EXPORT_HEADER!r}"
        )
    message = pb.TemporaryExposureKeyExport()
    _parse("export.bin", message, memoryview(export_bin)[len(EXPORT_HEADER) :])
    metadata = ExportMetadata(
        start_timestamp=message.start_timestamp,
        end_timestamp=message.end_timestamp,
        region=_text("export.bin", message, "region"),
        batch_num=message.batch_num,
        batch_size=message.batch_size,
        signature_infos=tuple(
            _signature_info("export.bin signature_infos", info) for info in message.signature_infos
        ),
    )
    columns, skipped = read_key_columns(export_bin, message, header_length=len(EXPORT_HEADER))
    return ExportFile(
        metadata=metadata,
        export_bin=export_bin,
        signatures=_read_signatures(export_sig) if export_sig is not None else (),
        has_signature_file=export_sig is not None,
        is_zip=is_zip,
        keys=columns["keys"],
        revised_keys=columns["revised_keys"],
        skipped_keys=tuple(skipped),
        ignored_entries=ignored,
    )
