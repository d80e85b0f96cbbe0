"""`notifica keys`: JSON output, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from notifica.cli import app
from notifica.protocol import (
    IMMUNI_SIGNATURE_INFO,
    EcdsaSigner,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    generate_signing_key_pem,
    write_export_bin,
    write_export_zip,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gaen-exports"
GOOGLE = FIXTURES / "google-exposure-notifications-internals"
FINNISH = FIXTURES / "thlfi-koronavilkku-android"
DUTCH = FIXTURES / "minvws-nl-covid19-notification-app-backend"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    line: str = lines[0]
    return line


def test_derive_matches_the_official_vectors(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["crypto_v1_2_test_vectors"]
    result = run(
        "keys", "derive", "--tek", v["tek"], "--interval", str(v["rolling_start_interval_number"]),
        "--metadata", v["ble_metadata"], "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["rpik"], data["aemk"]) == (v["rpik"], v["aemk"])
    assert data["rpis"] == [row["rpi"] for row in v["rows"]]
    assert data["aems"] == [row["aem"] for row in v["rows"]]


def test_derive_without_metadata_has_no_aems_and_human_output_works() -> None:
    result = run("keys", "derive", "--tek", "00" * 16, "--interval", "2650000", "--json")
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) == {"rpik", "aemk", "rpis"}
    human = run("keys", "derive", "--tek", "00" * 16, "--interval", "2650000")
    assert human.exit_code == 0
    assert "RPIK" in human.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tek", "zz" * 16, "--interval", "1"], "not hexadecimal"),
        (["--tek", "00" * 15, "--interval", "1"], "expected 16 bytes"),
        (["--tek", "00" * 16, "--interval", "-1"], "--interval"),
        (["--tek", "00" * 16, "--interval", str(2**32 - 10)], "--interval"),
        (["--tek", "00" * 16, "--interval", "1", "--metadata", "00"], "expected 4 bytes"),
    ],
)
def test_derive_rejects_bad_arguments(args: list[str], message: str) -> None:
    assert message in one_line_error(run("keys", "derive", *args))


def inspect(*args: str) -> Any:
    return run("keys", "inspect", *args)


def test_inspect_google_sample_verifies_with_its_published_key() -> None:
    path = str(GOOGLE / "sample_diagnosis_key_file.zip")
    result = inspect(path, "--public-key", f"310:v1={GOOGLE / '310-v1_public.pem'}", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["signature"] == "valid"
    assert (data["region"], data["batch_num"], data["batch_size"]) == ("US", 1, 1)
    assert data["start_timestamp"] == 1593633600
    assert data["header"] == "EK Export v1    "
    assert data["key_count"] == len(data["keys"]) == 140
    first = data["keys"][0]
    assert base64.b64decode(first["key_data"]).hex() == "0003d60b188f19856e8b3dd29a0c463b"
    assert first["rolling_period"] == 144
    assert first["days_since_onset_of_symptoms"] is None
    assert set(first) == {
        "key_data",
        "rolling_start_interval_number",
        "rolling_period",
        "transmission_risk_level",
        "report_type",
        "days_since_onset_of_symptoms",
    }


def test_inspect_wrong_key_is_invalid_and_unknown_name_is_unknown() -> None:
    path = str(GOOGLE / "sample_diagnosis_key_file.zip")
    wrong = inspect(path, "--public-key", str(GOOGLE / "ExampleServer-v1_public.pem"), "--json")
    assert json.loads(wrong.stdout)["signature"] == "invalid"
    assert "signature invalid" in one_line_error(wrong)
    unknown = inspect(path, "--public-key", f"999:v1={GOOGLE / '310-v1_public.pem'}", "--json")
    assert json.loads(unknown.stdout)["signature"] == "unknown-key"
    one_line_error(unknown)


def test_inspect_without_keys_reports_and_exits_zero() -> None:
    signed = inspect(str(GOOGLE / "sample_diagnosis_key_file.zip"), "--json")
    assert signed.exit_code == 0
    assert json.loads(signed.stdout)["signature"] == "unknown-key"
    bare = inspect(str(GOOGLE / "raw_export.bin"), "--json")
    assert bare.exit_code == 0
    assert json.loads(bare.stdout)["signature"] == "unsigned"
    assert json.loads(bare.stdout)["format"] == "export.bin"
    human = inspect(str(GOOGLE / "cpp_testdata_export.bin"))
    assert human.exit_code == 0
    assert "more (--json lists all)" in human.stdout


def test_inspect_bare_export_bin_with_a_key_is_unsigned_and_fails() -> None:
    result = inspect(
        str(GOOGLE / "raw_export.bin"), "--public-key", str(GOOGLE / "310-v1_public.pem")
    )
    assert "signature unsigned" in one_line_error(result)


def test_inspect_secp256k1_needs_the_opt_in() -> None:
    path, key = str(FINNISH / "batch_test.zip"), str(FINNISH / "test_public_secp256k1.pem")
    assert "secp256k1" in one_line_error(inspect(path, "--public-key", key))
    allowed = inspect(path, "--public-key", key, "--allow-curve", "secp256k1", "--json")
    assert allowed.exit_code == 0
    assert json.loads(allowed.stdout)["signature"] == "valid"
    negative = str(FINNISH / "batch_test_invalid_key.zip")
    result = inspect(negative, "--public-key", key, "--allow-curve", "secp256k1", "--json")
    assert json.loads(result.stdout)["signature"] == "invalid"
    one_line_error(result)
    assert "unknown curve" in one_line_error(inspect(path, "--allow-curve", "p256"))


def test_inspect_dutch_file_gives_clear_errors() -> None:
    path = str(DUTCH / "ProtobufHeaderTestFile.zip")
    assert "unexpected entry 'content.sig'" in one_line_error(inspect(path))
    key = f"204:v1={DUTCH / 'TestECDSA_public.pem'}"
    result = inspect(path, "--allow-extra-entries", "--public-key", key, "--json")
    message = one_line_error(result)
    assert "key_data is 53 bytes, expected 16" in message
    data = json.loads(result.stdout)
    assert data["signature"] == "valid"
    assert data["keys"] == []
    assert data["skipped_keys"][0]["index"] == 0
    assert data["ignored_entries"] == ["content.sig"]


def test_inspect_legacy_sample_by_version_only() -> None:
    folder = FIXTURES / "google-exposure-notifications-android"
    path = str(folder / "sample_diagnosis_key_file_2020-05-19.zip")
    result = inspect(
        path, "--public-key", f":v1={folder / 'ExampleServer-v1_public.pem'}", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signatures"][0]["signature_info"]["signature_algorithm"] == (
        "ECDSA p-256 SHA-256"
    )


def test_inspect_accepts_base64_spki_key_files(tmp_path: Path) -> None:
    pem = (GOOGLE / "310-v1_public.pem").read_text()
    b64 = tmp_path / "key.b64"
    b64.write_text("".join(pem.splitlines()[1:-1]) + "\n")
    result = inspect(str(GOOGLE / "sample_diagnosis_key_file.zip"), "--public-key", str(b64))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a key export"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip:"),
        (b"EK Export v1    \x0a\xff\xff", "not a valid protobuf"),
    ],
)
def test_inspect_malformed_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(content)
    error = one_line_error(inspect(str(path)))
    assert str(path) in error
    assert message in error


def test_inspect_truncated_file(tmp_path: Path) -> None:
    data = (GOOGLE / "sample_diagnosis_key_file.zip").read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(data[: len(data) // 2])
    assert "zip:" in one_line_error(inspect(str(path)))


def test_inspect_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.bin"
    with path.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: no disk used
    assert "too large" in one_line_error(inspect(str(path)))


def test_inspect_missing_file_and_bad_keys(tmp_path: Path) -> None:
    assert "No such file" in one_line_error(inspect(str(tmp_path / "missing.zip")))
    sample = str(GOOGLE / "sample_diagnosis_key_file.zip")
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    assert "--public-key" in one_line_error(inspect(sample, "--public-key", str(bad)))
    junk = tmp_path / "junk.txt"
    junk.write_text("not base64 !!")
    assert "neither PEM nor base64" in one_line_error(inspect(sample, "--public-key", str(junk)))
    missing = f"310:v1={tmp_path / 'nope.pem'}"
    assert "No such file" in one_line_error(inspect(sample, "--public-key", missing))


def test_generate_signing_key_then_public_key_then_verify(tmp_path: Path) -> None:
    out = tmp_path / "signing.pem"
    result = run("keys", "generate-signing-key", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    generated = json.loads(result.stdout)["public_key_pem"]
    again = one_line_error(run("keys", "generate-signing-key", str(out)))
    assert "refusing to overwrite" in again
    public = run("keys", "public-key", "--signing-key", str(out), "--json")
    assert json.loads(public.stdout)["public_key_pem"] == generated
    from_env = run("keys", "public-key", env={"NOTIFICA_SIGNING_KEY": str(out)})
    assert from_env.stdout == generated
    der = base64.b64decode(json.loads(public.stdout)["public_key_base64"])
    assert der.startswith(b"\x30\x59")  # a P-256 SubjectPublicKeyInfo is 91 bytes

    signer = EcdsaSigner.from_pem(out.read_bytes(), signature_info=IMMUNI_SIGNATURE_INFO)
    export = TemporaryExposureKeyExport(
        start_timestamp=1,
        end_timestamp=2,
        region="222",
        keys=(TemporaryExposureKey(key_data=bytes(16), rolling_start_interval_number=5),),
    )
    zip_path = tmp_path / "batch.zip"
    zip_path.write_bytes(write_export_zip(export, [signer]))
    key_file = tmp_path / "public.pem"
    key_file.write_text(generated)
    verified = inspect(str(zip_path), "--public-key", f"222:v1={key_file}", "--json")
    assert json.loads(verified.stdout)["signature"] == "valid"


def test_public_key_errors(tmp_path: Path) -> None:
    assert "NOTIFICA_SIGNING_KEY" in one_line_error(run("keys", "public-key", env={}))
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    assert "private key" in one_line_error(run("keys", "public-key", "--signing-key", str(bad)))
    assert "No such file" in one_line_error(
        run("keys", "public-key", "--signing-key", str(tmp_path / "missing.pem"))
    )


def test_generate_signing_key_into_a_missing_directory(tmp_path: Path) -> None:
    assert "No such file" in one_line_error(
        run("keys", "generate-signing-key", str(tmp_path / "no" / "key.pem"))
    )


def test_inspect_round_trip_of_a_written_bin(tmp_path: Path) -> None:
    key = TemporaryExposureKey(
        key_data=bytes(range(16)), rolling_start_interval_number=7, days_since_onset_of_symptoms=-3
    )
    path = tmp_path / "export.bin"
    path.write_bytes(
        write_export_bin(
            TemporaryExposureKeyExport(
                start_timestamp=1, end_timestamp=2, region="222", keys=(key,)
            )
        )
    )
    data = json.loads(inspect(str(path), "--json").stdout)
    assert data["keys"][0]["days_since_onset_of_symptoms"] == -3
    assert data["keys"][0]["rolling_start_interval_number"] == 7
    assert generate_signing_key_pem()  # the library call the command wraps
