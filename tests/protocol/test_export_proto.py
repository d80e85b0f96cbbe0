"""The generated protobuf module is what the pinned protoc makes of the committed .proto."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from notifica.protocol import _export_pb2 as pb

ROOT = Path(__file__).resolve().parent.parent.parent


def test_generated_code_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_defaults_and_field_numbers_are_the_gaen_ones() -> None:
    key = pb.TemporaryExposureKey.DESCRIPTOR
    assert key.fields_by_name["rolling_period"].default_value == 144
    assert {f.name: f.number for f in key.fields} == {
        "key_data": 1,
        "transmission_risk_level": 2,
        "rolling_start_interval_number": 3,
        "rolling_period": 4,
        "report_type": 5,
        "days_since_onset_of_symptoms": 6,
    }
    export = pb.TemporaryExposureKeyExport.DESCRIPTOR
    assert export.fields_by_name["revised_keys"].number == 8
    assert (
        export.fields_by_name["start_timestamp"].type
        == export.fields_by_name["start_timestamp"].TYPE_FIXED64
    )
    assert (
        key.fields_by_name["days_since_onset_of_symptoms"].type
        == key.fields_by_name["days_since_onset_of_symptoms"].TYPE_SINT32
    )
    signature = pb.TEKSignature.DESCRIPTOR
    assert [f.number for f in signature.fields] == [1, 2, 3, 4]
