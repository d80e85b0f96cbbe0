"""Files written by notifica read back identically; signing and zips are as specified."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from notifica.protocol import (
    ECDSA_SHA256_OID,
    ECDSA_SHA512_OID,
    EXPORT_HEADER,
    IMMUNI_REGION,
    IMMUNI_SIGNATURE_INFO,
    EcdsaSigner,
    InvalidSignature,
    ReportType,
    SignatureInfo,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    generate_signing_key_pem,
    load_public_key,
    public_key_pem,
    read_export,
    verify_export,
    write_export_bin,
    write_export_zip,
)

INT32 = st.integers(-(2**31), 2**31 - 1)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", max_size=8)

keys = st.builds(
    TemporaryExposureKey,
    key_data=st.binary(min_size=16, max_size=16),
    rolling_start_interval_number=st.integers(0, 2**31 - 1),
    rolling_period=st.integers(1, 144),
    transmission_risk_level=st.integers(0, 8),
    report_type=st.sampled_from(ReportType),
    days_since_onset_of_symptoms=st.none() | INT32,
)
signature_infos = st.builds(
    SignatureInfo,
    verification_key_id=NAMES,
    verification_key_version=NAMES,
    signature_algorithm=st.sampled_from([ECDSA_SHA256_OID, ECDSA_SHA512_OID, ""]),
    app_bundle_id=st.none() | st.text(max_size=30),
    android_package=st.none() | st.text(max_size=30),
)
exports = st.builds(
    TemporaryExposureKeyExport,
    start_timestamp=st.integers(0, 2**64 - 1),
    end_timestamp=st.integers(0, 2**64 - 1),
    region=st.text(max_size=10),
    batch_num=INT32,
    batch_size=INT32,
    signature_infos=st.lists(signature_infos, max_size=3).map(tuple),
    keys=st.lists(keys, max_size=30).map(tuple),
    revised_keys=st.lists(keys, max_size=5).map(tuple),
)


@given(exports)
@settings(max_examples=150, deadline=None)
def test_export_bin_round_trip_is_identity(export: TemporaryExposureKeyExport) -> None:
    data = write_export_bin(export)
    assert data.startswith(EXPORT_HEADER)
    file = read_export(data)
    assert file.export == export
    assert not file.skipped_keys
    assert not file.is_zip
    assert file.key_batch.key_data == b"".join(k.key_data for k in export.keys)
    assert list(file.revised_key_batch.rolling_periods) == [
        k.rolling_period for k in export.revised_keys
    ]


@pytest.fixture(scope="module")
def signer() -> EcdsaSigner:
    return EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=IMMUNI_SIGNATURE_INFO)


@given(export=exports)
@settings(max_examples=40, deadline=None)
def test_zip_round_trip_is_identity_and_verifies(
    export: TemporaryExposureKeyExport, signer: EcdsaSigner
) -> None:
    export = replace(export, signature_infos=())
    file = read_export(write_export_zip(export, [signer]))
    assert file.is_zip
    assert file.export == replace(export, signature_infos=(IMMUNI_SIGNATURE_INFO,))
    verify_export(file, {("222", "v1"): signer.public_key_pem()})


def immuni_export(key_count: int = 3) -> TemporaryExposureKeyExport:
    return TemporaryExposureKeyExport(
        start_timestamp=1598194804,
        end_timestamp=1598209206,
        region=IMMUNI_REGION,
        keys=tuple(
            TemporaryExposureKey(
                key_data=bytes([i]) * 16,
                rolling_start_interval_number=2663136 + 144 * i,
                transmission_risk_level=8,
            )
            for i in range(key_count)
        ),
    )


def test_immuni_layout_matches_the_published_file_byte_for_byte_in_structure() -> None:
    # The real Immuni batch (fixture #10) writes every key as 0a10<16>1008 18<rsin> 209001.
    key = immuni_export(1).keys[0]
    data = write_export_bin(immuni_export(1))
    record = bytes.fromhex("0a10") + key.key_data + bytes.fromhex("1008") + b"\x18"
    assert record in data
    assert bytes.fromhex("209001") in data  # rolling_period 144 written explicitly


def test_zip_is_deterministic_apart_from_the_signature(signer: EcdsaSigner) -> None:
    first = write_export_zip(immuni_export(), [signer])
    second = write_export_zip(immuni_export(), [signer])
    with zipfile.ZipFile(io.BytesIO(first)) as a, zipfile.ZipFile(io.BytesIO(second)) as b:
        assert a.namelist() == b.namelist() == ["export.bin", "export.sig"]
        assert a.read("export.bin") == b.read("export.bin")
        for info in a.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)


class FixedSigner:
    """A signer whose signatures are fixed, to show the zip bytes are then identical."""

    signature_info = IMMUNI_SIGNATURE_INFO

    def sign(self, data: bytes) -> bytes:
        return b"\x30\x06\x02\x01\x01\x02\x01\x01"


def test_zip_bytes_are_identical_for_identical_input() -> None:
    assert write_export_zip(immuni_export(), [FixedSigner()]) == write_export_zip(
        immuni_export(), [FixedSigner()]
    )


def test_signature_covers_the_whole_export_bin_header_included(signer: EcdsaSigner) -> None:
    file = read_export(write_export_zip(immuni_export(), [signer]))
    public = load_public_key(signer.public_key_pem())
    signature = file.signatures[0].signature
    public.verify(signature, file.export_bin, ec.ECDSA(hashes.SHA256()))
    assert file.signatures[0].batch_num == 1
    assert file.signatures[0].signature_info == IMMUNI_SIGNATURE_INFO


def test_two_signers_both_verify_and_a_forged_one_fails() -> None:
    first = EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=IMMUNI_SIGNATURE_INFO)
    second_info = replace(IMMUNI_SIGNATURE_INFO, verification_key_version="v2")
    second = EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=second_info)
    file = read_export(write_export_zip(immuni_export(), [first, second]))
    keys = {("222", "v1"): first.public_key_pem(), ("222", "v2"): second.public_key_pem()}
    verify_export(file, keys)
    verify_export(file, {("222", "v2"): second.public_key_pem()})  # unmatched v1 is ignored
    with pytest.raises(InvalidSignature, match="signature 1"):
        verify_export(file, {**keys, ("222", "v2"): first.public_key_pem()})


def test_sha512_oid_signs_and_verifies() -> None:
    info = replace(IMMUNI_SIGNATURE_INFO, signature_algorithm=ECDSA_SHA512_OID)
    signer = EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=info)
    file = read_export(write_export_zip(immuni_export(), [signer]))
    verify_export(file, {("222", "v1"): signer.public_key_pem()})


def test_signer_refuses_other_curves_unless_allowed() -> None:
    k1 = ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="secp256k1"):
        EcdsaSigner.from_pem(k1, signature_info=IMMUNI_SIGNATURE_INFO)
    signer = EcdsaSigner.from_pem(
        k1, signature_info=IMMUNI_SIGNATURE_INFO, allowed_curves=("secp256k1",)
    )
    assert public_key_pem(k1) == signer.public_key_pem()


def test_signer_refuses_non_oid_algorithms_and_bad_pem() -> None:
    legacy = replace(IMMUNI_SIGNATURE_INFO, signature_algorithm="ECDSA p-256 SHA-256")
    with pytest.raises(ValueError, match="signature_algorithm"):
        EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=legacy)
    with pytest.raises(ValueError, match="PEM"):
        EcdsaSigner.from_pem(b"not a key", signature_info=IMMUNI_SIGNATURE_INFO)
    with pytest.raises(ValueError, match="PEM"):
        public_key_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_generated_key_is_p256_pkcs8() -> None:
    pem = generate_signing_key_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_public_key(public_key_pem(pem)).curve.name == "secp256r1"


def test_write_zip_needs_a_signer_and_consistent_infos(signer: EcdsaSigner) -> None:
    with pytest.raises(ValueError, match="signer"):
        write_export_zip(immuni_export(), [])
    other = replace(
        immuni_export(), signature_infos=(replace(IMMUNI_SIGNATURE_INFO, app_bundle_id=None),)
    )
    with pytest.raises(ValueError, match="signature_infos"):
        write_export_zip(other, [signer])


def test_value_types_reject_what_the_format_cannot_carry() -> None:
    with pytest.raises(ValueError, match="start_timestamp"):
        replace(immuni_export(), start_timestamp=-1)
    with pytest.raises(ValueError, match="batch_num"):
        replace(immuni_export(), batch_num=2**31)
    with pytest.raises(TypeError, match="region"):
        replace(immuni_export(), region=222)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys"):
        replace(immuni_export(), keys=(b"0" * 16,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="verification_key_id"):
        SignatureInfo(verification_key_id=222, verification_key_version="v1")  # type: ignore[arg-type]
