"""`notifica keys`: derive identifiers from a TEK, inspect export files, manage signing keys.

Every command prints JSON with ``--json``. Errors are one line on stderr and exit status 1
(2 for a bad command line, from Typer). ``inspect`` exits 0 only when the file parses, holds no
invalid key and, if public keys were given, its signature is valid; it still prints what it
read when it then exits 1, so scripts can look at why.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from notifica.cli._output import console, emit, fail, user_errors
from notifica.protocol import (
    EXPORT_HEADER,
    KEY_LENGTH,
    METADATA_LENGTH,
    P256,
    TEK_ROLLING_PERIOD,
    ExportFile,
    ExportLimits,
    KeyColumns,
    MalformedExport,
    SignatureInfo,
    SignatureStatus,
    UnsupportedAlgorithm,
    check_export_signature,
    derive_aemk,
    derive_rpik,
    encrypt_aem,
    generate_signing_key_pem,
    load_public_key,
    public_key_pem,
    read_export,
    rolling_proximity_identifiers,
)

__all__ = ["app"]

app = typer.Typer(
    name="keys",
    help="GAEN keys: derive identifiers, inspect key-export files, signing keys.",
    no_args_is_help=True,
)

SIGNING_KEY_ENV = "NOTIFICA_SIGNING_KEY"
"""Where `public-key` finds the server's signing key when no --signing-key is given."""

KNOWN_CURVES = ("secp256r1", "secp384r1", "secp521r1", "secp256k1")
"""Curves --allow-curve accepts (names as `cryptography` spells them)."""

_KEY_FILE_MAX_BYTES = 64 * 1024
"""A PEM key is well under 1 KiB; anything much larger is not a key file."""

_NAMED_KEY = re.compile(r"^(?P<id>[A-Za-z0-9_]*):(?P<version>[A-Za-z0-9_]*)=(?P<path>.+)$")
"""``ID:VERSION=PEMFILE``: key ids and versions are ``[a-zA-Z0-9_]`` (protocol.md §12.4)."""

_SHOWN_KEYS = 20
"""Keys listed in human output; --json lists all."""

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_CURVE_CHOICES = ", ".join(KNOWN_CURVES)


def _hex_argument(option: str, text: str, length: int) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        fail(f"{option}: {text!r} is not hexadecimal")
    if len(value) != length:
        fail(f"{option}: expected {length} bytes ({2 * length} hex digits), got {len(value)}")
    return value


@app.command()
def derive(
    tek: Annotated[str, typer.Option("--tek", help="The TEK's key data: 32 hex digits.")],
    interval: Annotated[int, typer.Option("--interval", help="ENIntervalNumber of the first RPI.")],
    metadata: Annotated[
        str | None,
        typer.Option("--metadata", help="Bluetooth metadata to encrypt into AEMs: 8 hex digits."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """RPIK, AEMK and the 144 RPIs (and AEMs) of a TEK from --interval on."""
    key_data = _hex_argument("--tek", tek, KEY_LENGTH)
    plain_metadata = (
        None if metadata is None else _hex_argument("--metadata", metadata, METADATA_LENGTH)
    )
    rpik, aemk = derive_rpik(key_data), derive_aemk(key_data)
    try:
        rpis = rolling_proximity_identifiers(rpik, interval, TEK_ROLLING_PERIOD)
    except ValueError as exc:
        fail(f"--interval: {exc}")
    result: dict[str, Any] = {"rpik": rpik.hex(), "aemk": aemk.hex()}
    result["rpis"] = [rpi.hex() for rpi in rpis]
    if plain_metadata is not None:
        result["aems"] = [encrypt_aem(aemk, rpi, plain_metadata).hex() for rpi in rpis]

    def render(data: dict[str, Any]) -> None:
        console.print(f"RPIK {data['rpik']}\nAEMK {data['aemk']}")
        table = Table("interval", "RPI", *(["AEM"] if "aems" in data else []))
        for i, rpi in enumerate(data["rpis"]):
            table.add_row(str(interval + i), rpi, *([data["aems"][i]] if "aems" in data else []))
        console.print(table)

    emit(result, as_json=as_json, render=render)


def _read_limited(path: Path, limit: int, what: str) -> bytes:
    if path.is_file() and path.stat().st_size > limit:
        fail(f"{path}: larger than {limit} bytes, too large for {what}")
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        fail(f"{path}: larger than {limit} bytes, too large for {what}")
    return data


def _public_key_bytes(spec: str, path: Path) -> bytes:
    """PEM, or the base64 SubjectPublicKeyInfo that GAEN configurations publish."""
    data = _read_limited(path, _KEY_FILE_MAX_BYTES, "a public key")
    if not data.lstrip().startswith(b"-----BEGIN"):
        try:
            data = base64.b64decode(b"".join(data.split()), validate=True)
        except binascii.Error:
            fail(f"--public-key {spec}: {path} is neither PEM nor base64 DER")
    try:
        load_public_key(data)
    except ValueError as exc:
        fail(f"--public-key {spec}: {path}: {exc}")
    return data


def _public_keys(specs: Sequence[str]) -> tuple[dict[tuple[str, str], bytes], list[bytes]]:
    named: dict[tuple[str, str], bytes] = {}
    fallback: list[bytes] = []
    for spec in specs:
        match = _NAMED_KEY.match(spec)
        if match and not Path(spec).exists():
            path = Path(match["path"])
            named[(match["id"], match["version"])] = _public_key_bytes(spec, path)
        else:
            fallback.append(_public_key_bytes(spec, Path(spec)))
    return named, fallback


def _signature_info_json(info: SignatureInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    result: dict[str, Any] = {
        "verification_key_id": info.verification_key_id,
        "verification_key_version": info.verification_key_version,
        "signature_algorithm": info.signature_algorithm,
    }
    for name in ("app_bundle_id", "android_package"):
        if (value := getattr(info, name)) is not None:
            result[name] = value
    return result


def _keys_json(columns: KeyColumns) -> list[dict[str, Any]]:
    batch = columns.batch
    return [
        {
            "key_data": base64.b64encode(batch.key_data_at(i)).decode(),
            "rolling_start_interval_number": batch.rolling_start_interval_numbers[i],
            "rolling_period": batch.rolling_periods[i],
            "transmission_risk_level": columns.transmission_risk_levels[i],
            "report_type": columns.report_types[i],
            "days_since_onset_of_symptoms": (
                columns.days_since_onset[i] if columns.has_onset[i] else None
            ),
        }
        for i in range(len(columns))
    ]


def _describe(path: Path, file: ExportFile, signature: SignatureStatus) -> dict[str, Any]:
    meta = file.metadata
    return {
        "file": str(path),
        "format": "zip" if file.is_zip else "export.bin",
        "header": EXPORT_HEADER.decode(),
        "start_timestamp": meta.start_timestamp,
        "end_timestamp": meta.end_timestamp,
        "region": meta.region,
        "batch_num": meta.batch_num,
        "batch_size": meta.batch_size,
        "signature_infos": [_signature_info_json(info) for info in meta.signature_infos],
        "signatures": [
            {
                "signature_info": _signature_info_json(entry.signature_info),
                "batch_num": entry.batch_num,
                "batch_size": entry.batch_size,
                "signature": entry.signature.hex(),
            }
            for entry in file.signatures
        ],
        "key_count": len(file.keys),
        "revised_key_count": len(file.revised_keys),
        "keys": _keys_json(file.keys),
        "revised_keys": _keys_json(file.revised_keys),
        "skipped_keys": [
            {"field": s.field, "index": s.index, "reason": s.reason} for s in file.skipped_keys
        ],
        "ignored_entries": list(file.ignored_entries),
        "signature": str(signature),
    }


def _render_inspection(data: dict[str, Any]) -> None:
    console.print(
        f"{data['file']} ({data['format']}): region {data['region']}, "
        f"batch {data['batch_num']}/{data['batch_size']}, "
        f"timestamps {data['start_timestamp']}..{data['end_timestamp']}"
    )
    for info in data["signature_infos"]:
        console.print(f"signature info: {info}")
    console.print(
        f"{data['key_count']} keys, {data['revised_key_count']} revised keys, "
        f"{len(data['skipped_keys'])} skipped; signature: {data['signature']}"
    )
    for field in ("keys", "revised_keys"):
        if not data[field]:
            continue
        table = Table("key_data", "rsin", "period", "trl", "type", "onset", title=field)
        for key in data[field][:_SHOWN_KEYS]:
            onset = key["days_since_onset_of_symptoms"]
            table.add_row(
                key["key_data"],
                str(key["rolling_start_interval_number"]),
                str(key["rolling_period"]),
                str(key["transmission_risk_level"]),
                str(key["report_type"]),
                "" if onset is None else str(onset),
            )
        console.print(table)
        if len(data[field]) > _SHOWN_KEYS:
            console.print(f"… {len(data[field]) - _SHOWN_KEYS} more (--json lists all)")
    for skipped in data["skipped_keys"]:
        console.print(f"skipped {skipped['field']}[{skipped['index']}]: {skipped['reason']}")
    if data["ignored_entries"]:
        console.print(f"ignored zip entries: {', '.join(data['ignored_entries'])}")


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="A key-export zip or a bare export.bin.")],
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            "--public-key",
            help="Public key (PEM or base64 SPKI) to verify with: PEMFILE for any key "
            "id/version, or ID:VERSION=PEMFILE (e.g. 310:v1=310-v1_public.pem). Repeatable.",
        ),
    ] = None,
    allow_curve: Annotated[
        list[str] | None,
        typer.Option("--allow-curve", help=f"Accept this curve too: {_CURVE_CHOICES}."),
    ] = None,
    allow_extra_entries: Annotated[
        bool,
        typer.Option(
            "--allow-extra-entries", help="Skip zip entries other than export.bin/export.sig."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Header, keys and signature status of a key-export file."""
    public_key, allow_curve = public_key or [], allow_curve or []
    for curve in allow_curve:
        if curve not in KNOWN_CURVES:
            fail(f"--allow-curve: unknown curve {curve!r}; known: {', '.join(KNOWN_CURVES)}")
    with user_errors():
        named, fallback = _public_keys(public_key)
        limits = ExportLimits()
        data = _read_limited(file, limits.max_file_bytes, "a key export")
    try:
        export = read_export(data, allow_extra_entries=allow_extra_entries, limits=limits)
    except MalformedExport as exc:
        hint = " (--allow-extra-entries skips it)" if "unexpected entry" in str(exc) else ""
        fail(f"{file}: {exc}{hint}")
    status = SignatureStatus.UNSIGNED if not export.signatures else SignatureStatus.UNKNOWN_KEY
    if named or fallback:
        try:
            status = check_export_signature(
                export, named, fallback_keys=fallback, allowed_curves=(P256, *allow_curve)
            )
        except UnsupportedAlgorithm as exc:
            fail(f"{file}: {exc} (--allow-curve NAME accepts another curve)")
    emit(_describe(file, export, status), as_json=as_json, render=_render_inspection)
    if export.skipped_keys:
        first = export.skipped_keys[0]
        fail(f"{file}: {len(export.skipped_keys)} invalid key(s) skipped, first {first}")
    if (named or fallback) and status is not SignatureStatus.VALID:
        fail(f"{file}: signature {status} for the given public key(s)")


@app.command("generate-signing-key")
def generate_signing_key(
    out: Annotated[Path, typer.Argument(help="Where to write the new private key (PEM).")],
    as_json: JsonFlag = False,
) -> None:
    """Create a new P-256 export-signing key, readable only by you (mode 0600)."""
    pem = generate_signing_key_pem()
    with user_errors():
        try:
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            fail(f"{out} exists; refusing to overwrite a signing key")
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(pem)
    public = public_key_pem(pem).decode()
    emit(
        {"path": str(out), "public_key_pem": public},
        as_json=as_json,
        render=lambda data: console.print(
            f"wrote {data['path']} (P-256, mode 0600); its public key:\n{data['public_key_pem']}",
            end="",
        ),
    )


@app.command("public-key")
def public_key_command(
    signing_key: Annotated[
        Path | None,
        typer.Option(
            "--signing-key",
            envvar=SIGNING_KEY_ENV,
            help=f"The private key (PEM); default ${SIGNING_KEY_ENV}.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The public key phones verify exports with (PEM; --json adds base64 DER)."""
    if signing_key is None:
        fail(f"no signing key: pass --signing-key PATH or set {SIGNING_KEY_ENV}")
    with user_errors():
        private = _read_limited(signing_key, _KEY_FILE_MAX_BYTES, "a signing key")
    try:
        public = public_key_pem(private)
    except ValueError as exc:
        fail(f"{signing_key}: {exc}")
    der = b"".join(base64.b64decode(line) for line in public.splitlines()[1:-1])
    emit(
        {"public_key_pem": public.decode(), "public_key_base64": base64.b64encode(der).decode()},
        as_json=as_json,
        render=lambda data: console.print(data["public_key_pem"], end=""),
    )
