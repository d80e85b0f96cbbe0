"""The ten real export files of tests/fixtures/gaen-exports behave as their README says."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalid
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from notifica.protocol import (
    EXPORT_HEADER,
    InvalidSignature,
    MalformedExport,
    ReportType,
    SignatureStatus,
    UnknownSigningKey,
    UnsignedExport,
    UnsupportedAlgorithm,
    check_export_signature,
    load_public_key,
    read_export,
    verify_export,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gaen-exports"
K1 = ("secp256r1", "secp256k1")


def fixture_path(entry: dict[str, Any]) -> Path:
    return FIXTURES / str(entry["file"]).removeprefix("fixtures/gaen-exports/")


def load_export_vectors() -> list[dict[str, Any]]:
    """``export_files`` of gaen_vectors.json, read at collection time to parametrize tests."""
    vectors_file = Path(__file__).resolve().parent.parent / "vectors" / "gaen_vectors.json"
    files: list[dict[str, Any]] = json.loads(vectors_file.read_text())["export_files"]
    return files


VECTORS = load_export_vectors()
IDS = [Path(v["file"]).name for v in VECTORS]


def read_fixture(entry: dict[str, Any]) -> Any:
    return read_export(fixture_path(entry).read_bytes(), allow_extra_entries=True)


def test_fixture_copies_are_byte_for_byte() -> None:
    for entry in VECTORS:
        assert hashlib.sha256(fixture_path(entry).read_bytes()).hexdigest() == entry["file_sha256"]


@pytest.mark.parametrize("entry", VECTORS, ids=IDS)
def test_read_export_matches_the_published_expectations(entry: dict[str, Any]) -> None:
    file = read_fixture(entry)
    meta = file.metadata
    assert file.export_bin[:16].hex() == entry["header_hex"] == EXPORT_HEADER.hex()
    assert hashlib.sha256(file.export_bin).hexdigest() == entry["export_bin_sha256"]
    assert file.is_zip == str(entry["file"]).endswith(".zip")
    assert (meta.start_timestamp, meta.end_timestamp) == (
        entry["start_timestamp"],
        entry["end_timestamp"],
    )
    assert (meta.region, meta.batch_num, meta.batch_size) == (
        entry["region"],
        entry["batch_num"],
        entry["batch_size"],
    )
    assert len(meta.signature_infos) == len(entry["signature_infos"])
    for info, expected in zip(meta.signature_infos, entry["signature_infos"], strict=True):
        assert info.verification_key_id == expected.get("verification_key_id", "")
        assert info.verification_key_version == expected.get("verification_key_version", "")
        assert info.signature_algorithm == expected.get("signature_algorithm", "")
        assert info.app_bundle_id == expected.get("app_bundle_id")
        assert info.android_package == expected.get("android_package")
    assert len(file.revised_keys) == entry["revised_key_count"] == 0
    if entry["key_data_lengths"] == [16]:
        keys = file.export.keys
        assert len(keys) == entry["key_count"]
        assert not file.skipped_keys
        for key, expected in ((keys[0], entry["first_key"]), (keys[-1], entry["last_key"])):
            assert key.key_data.hex() == expected["key_data"]
            assert key.transmission_risk_level == expected["transmission_risk_level"]
            assert key.rolling_start_interval_number == expected["rolling_start_interval_number"]
            # proto2 default: fixture #1 leaves rolling_period out on every key.
            assert key.rolling_period == expected.get("rolling_period", 144)
            assert key.report_type is ReportType.UNKNOWN
            assert key.days_since_onset_of_symptoms is None
        assert len(file.key_batch) == entry["key_count"]
        assert file.key_batch.key_data == b"".join(k.key_data for k in keys)


@pytest.mark.parametrize("entry", [v for v in VECTORS if "tek_signature_list" in v], ids=str)
def test_export_sig_entries_are_read(entry: dict[str, Any]) -> None:
    file = read_fixture(entry)
    assert len(file.signatures) == len(entry["tek_signature_list"])
    for got, expected in zip(file.signatures, entry["tek_signature_list"], strict=True):
        assert got.signature.hex() == expected["signature"]
        assert (got.batch_num, got.batch_size) == (expected["batch_num"], expected["batch_size"])
        assert got.signature_info is not None
        assert got.signature_info.verification_key_version == expected["signature_info"].get(
            "verification_key_version", ""
        )


SIGNED = [v for v in VECTORS if "verification" in v]


def public_key(entry: dict[str, Any]) -> bytes:
    name: str = entry["verification"]["public_key_pem_file"]
    pem = (FIXTURES / name.removeprefix("fixtures/gaen-exports/")).read_bytes()
    assert pem == entry["verification"]["public_key_pem"].encode()
    return pem


@pytest.mark.parametrize("entry", SIGNED, ids=[Path(v["file"]).name for v in SIGNED])
def test_signed_fixtures_verify_as_published(entry: dict[str, Any]) -> None:
    file = read_fixture(entry)
    signer = file.signatures[0].signature_info or file.metadata.signature_infos[0]
    named = {signer.key_name: public_key(entry)}
    if entry["verification"]["verifies_over_full_export_bin"]:
        verify_export(file, named, allowed_curves=K1)
        assert check_export_signature(file, named, allowed_curves=K1) is SignatureStatus.VALID
    else:
        with pytest.raises(InvalidSignature, match=r"does not verify over export\.bin"):
            verify_export(file, named, allowed_curves=K1)


def test_google_sample_verifies_with_key_310_v1() -> None:
    data = FIXTURES / "google-exposure-notifications-internals/sample_diagnosis_key_file.zip"
    pem = (FIXTURES / "google-exposure-notifications-internals/310-v1_public.pem").read_bytes()
    file = read_export(data.read_bytes())
    verify_export(file, {("310", "v1"): pem})
    with pytest.raises(UnknownSigningKey, match="'310' version 'v1'"):
        verify_export(file, {("310", "v2"): pem})


def test_header_is_part_of_what_is_signed() -> None:
    entry = VECTORS[0]
    file = read_fixture(entry)
    pem = public_key(entry)
    stripped = file.export_bin[16:]
    key = load_public_key(pem)
    key.verify(file.signatures[0].signature, file.export_bin, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(CryptoInvalid):
        key.verify(file.signatures[0].signature, stripped, ec.ECDSA(hashes.SHA256()))


FINNISH = [v for v in SIGNED if v["region"] == "FI"]


@pytest.mark.parametrize("entry", FINNISH, ids=[Path(v["file"]).name for v in FINNISH])
def test_secp256k1_files_are_refused_unless_the_curve_is_allowed(entry: dict[str, Any]) -> None:
    file = read_fixture(entry)
    keys = {("244", "v1"): public_key(entry)}
    with pytest.raises(UnsupportedAlgorithm, match="secp256k1"):
        verify_export(file, keys)
    with pytest.raises(UnsupportedAlgorithm):
        check_export_signature(file, keys)
    expected = (
        SignatureStatus.VALID
        if entry["verification"]["verifies_over_full_export_bin"]
        else SignatureStatus.INVALID
    )
    assert check_export_signature(file, keys, allowed_curves=K1) is expected


def test_legacy_algorithm_string_is_an_alias_of_p256_sha256() -> None:
    folder = FIXTURES / "google-exposure-notifications-android"
    file = read_export((folder / "sample_diagnosis_key_file_2020-05-19.zip").read_bytes())
    info = file.signatures[0].signature_info
    assert info is not None
    assert info.signature_algorithm == "ECDSA p-256 SHA-256"
    # The sample names no key id, only the version: it is looked up as ("", "v1").
    pem = (folder / "ExampleServer-v1_public.pem").read_bytes()
    verify_export(file, {("", "v1"): pem})
    verify_export(file, {}, fallback_keys=[pem])


def test_legacy_algorithm_string_is_not_accepted_with_another_curve() -> None:
    folder = FIXTURES / "google-exposure-notifications-android"
    file = read_export((folder / "sample_diagnosis_key_file_2020-05-19.zip").read_bytes())
    k1 = (FIXTURES / "thlfi-koronavilkku-android/test_public_secp256k1.pem").read_bytes()
    with pytest.raises(UnsupportedAlgorithm):
        verify_export(file, {("", "v1"): k1}, allowed_curves=K1)


def nl_zip() -> bytes:
    path = FIXTURES / "minvws-nl-covid19-notification-app-backend/ProtobufHeaderTestFile.zip"
    return path.read_bytes()


def test_extra_zip_entry_is_refused_by_default() -> None:
    with pytest.raises(MalformedExport, match=r"unexpected entry 'content\.sig'"):
        read_export(nl_zip())


def test_53_byte_key_is_skipped_with_a_reason_and_the_signature_still_verifies() -> None:
    file = read_export(nl_zip(), allow_extra_entries=True)
    assert file.ignored_entries == ("content.sig",)
    assert len(file.key_batch) == 0
    assert file.export.keys == ()
    (skipped,) = file.skipped_keys
    assert (skipped.field, skipped.index) == ("keys", 0)
    assert "key_data is 53 bytes, expected 16" in skipped.reason
    assert "rolling_period is 0" in skipped.reason
    pem = (
        FIXTURES / "minvws-nl-covid19-notification-app-backend/TestECDSA_public.pem"
    ).read_bytes()
    verify_export(file, {("204", "v1"): pem})


def test_bare_export_bins_are_unsigned() -> None:
    for entry in VECTORS:
        if not entry["file"].endswith(".bin"):
            continue
        file = read_fixture(entry)
        assert not file.has_signature_file
        assert file.signatures == ()
        with pytest.raises(UnsignedExport, match=r"no export\.sig"):
            verify_export(file, {})
        assert check_export_signature(file, {}) is SignatureStatus.UNSIGNED


def test_bare_export_bin_inside_the_android_sample_is_the_internals_raw_export() -> None:
    folder = FIXTURES / "google-exposure-notifications-android"
    with zipfile.ZipFile(
        io.BytesIO((folder / "sample_diagnosis_key_file_2020-05-19.zip").read_bytes())
    ) as archive:
        inner = archive.read("export.bin")
    raw = (FIXTURES / "google-exposure-notifications-internals/raw_export.bin").read_bytes()
    assert inner == raw
    assert read_export(inner).export == read_export(raw).export
