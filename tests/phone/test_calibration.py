from __future__ import annotations

import hashlib
import random
from collections import Counter
from importlib import resources

import pytest

from notifica.errors import NotificaError
from notifica.phone.calibration import (
    DEFAULT_TABLE_NAME,
    CalibrationConfidence,
    CalibrationDataError,
    CalibrationTable,
    DeviceCalibration,
)

HEADER = "oem,device, model,rssi correction,tx,calibration confidence\n"
TABLE_SHA256 = "6db998924c0195444e50283524e8346ec3464ec9a37cd702036fac3faab65754"
"""Of Google's file as copied (docs/data README in the shared data; PROVENANCE.md)."""


@pytest.fixture(scope="module")
def table() -> CalibrationTable:
    return CalibrationTable.load_default()


def _row(oem: str, device: str, model: str, rssi: int, tx: int, conf: int) -> DeviceCalibration:
    return DeviceCalibration(
        oem=oem,
        device=device,
        model=model,
        rssi_correction_db=rssi,
        tx_power_dbm=tx,
        calibration_confidence=CalibrationConfidence(conf),
    )


def test_shipped_table_is_googles_file_with_its_licence() -> None:
    data = resources.files("notifica.phone").joinpath("data")
    assert hashlib.sha256(data.joinpath(DEFAULT_TABLE_NAME).read_bytes()).hexdigest() == (
        TABLE_SHA256
    )
    assert "Attribution 4.0 International" in data.joinpath("LICENSE-CC-BY-4.0.txt").read_text()
    assert "CC BY 4.0" in data.joinpath("PROVENANCE.md").read_text()


def test_default_table_has_every_row_and_is_parsed_once(table: CalibrationTable) -> None:
    assert len(table) == 11_809
    assert CalibrationTable.load_default() is table
    confidences = Counter(row.calibration_confidence for row in table)
    assert confidences == {CalibrationConfidence.LOW: 11_503, CalibrationConfidence.HIGH: 306}
    assert table.devices[0] == _row("asus", "K015", "AST21", 3, -22, 1)
    assert table.devices[-1] == _row("zte", "sailboat", "tmn smart a7", 5, -25, 1)


@pytest.mark.parametrize(
    ("oem", "model", "rssi", "tx"),
    [  # simulation.md §2 quotes these confidence-3 rows
        ("google", "Pixel 4", 8, -30),
        ("google", "Pixel 3", 5, -33),
        ("google", "Pixel 3a", 2, -29),
        ("google", "Pixel 4a", 1, -30),
        ("samsung", "SM-G960F", 7, -27),
        ("oneplus", "ONEPLUS A6003", 4, -29),
    ],
)
def test_known_measured_models(
    table: CalibrationTable, oem: str, model: str, rssi: int, tx: int
) -> None:
    found = table.lookup(model, oem=oem)
    assert (found.rssi_correction_db, found.tx_power_dbm) == (rssi, tx)
    assert found.calibration_confidence is CalibrationConfidence.HIGH
    assert table.lookup(model) == found  # the model alone is unambiguous here
    assert table.find(model, oem=oem) == (found,)


def test_lookup_ignores_case_and_surrounding_spaces(table: CalibrationTable) -> None:
    assert table.lookup(" pixel 4 ", oem="GOOGLE").model == "Pixel 4"


def test_lookup_prefers_the_row_spelled_as_asked(table: CalibrationTable) -> None:
    assert len(table.find("mi a1", oem="xiaomi")) == 2
    high = table.lookup("Mi A1", oem="xiaomi")
    low = table.lookup("MI A1", oem="xiaomi")
    assert (high.calibration_confidence, low.calibration_confidence) == (3, 1)
    assert table.lookup("mi a1", oem="xiaomi").calibration_confidence == 1  # averaged twins


def test_lookup_with_device_picks_the_exact_row(table: CalibrationTable) -> None:
    # HTC U11: four devices with two different calibrations.
    rows = table.find("HTC U11", oem="htc")
    assert len({(r.rssi_correction_db, r.tx_power_dbm) for r in rows}) > 1
    for row in rows:
        assert table.lookup(row.model, oem=row.oem, device=row.device) == row


def test_conflicting_rows_are_averaged_as_sister_devices(table: CalibrationTable) -> None:
    rows = table.find("HTC U11", oem="htc")
    found = table.lookup("HTC U11", oem="htc")
    mean_rssi = sum(r.rssi_correction_db for r in rows) / len(rows)
    assert abs(found.rssi_correction_db - mean_rssi) <= 0.5
    assert found.calibration_confidence is CalibrationConfidence.LOW  # two rows are LOW
    assert (found.rssi_correction_db, found.tx_power_dbm) == (3, -24)  # means 2.5, -24
    assert (found.oem, found.device, found.model) == ("htc", "", "HTC U11")


def test_unknown_model_of_a_known_oem_gets_the_oem_average(table: CalibrationTable) -> None:
    found = table.lookup("Pixel 99", oem="google")
    google = [row for row in table if row.oem == "google"]
    assert found.calibration_confidence is CalibrationConfidence.LOW
    assert found.rssi_correction_db == round(sum(r.rssi_correction_db for r in google) / 49)
    assert (found.oem, found.model) == ("google", "Pixel 99")


def test_unknown_device_gets_the_fleet_wide_default(table: CalibrationTable) -> None:
    # GAEN: LOWEST = "no calibration data, using fleet-wide as default options".
    found = table.lookup("iPhone 12", oem="apple")
    assert found.calibration_confidence is CalibrationConfidence.LOWEST
    # Means over 11,809 rows: 3.54 dB and -22.93 dBm, rounded half up.
    assert (found.rssi_correction_db, found.tx_power_dbm) == (4, -23)
    assert table.fleet_average.tx_power_dbm == -23
    assert table.lookup("no such phone").calibration_confidence is CalibrationConfidence.LOWEST


def test_sister_devices_share_a_device_name() -> None:
    table = CalibrationTable(
        [_row("acme", "rocket", "R1", 2, -20, 3), _row("acme", "rocket", "R1 Pro", 4, -25, 3)]
    )
    found = table.lookup("R1 Max", oem="acme", device="rocket")
    assert (found.rssi_correction_db, found.tx_power_dbm) == (3, -22)  # -22.5 rounds half up
    assert found.calibration_confidence is CalibrationConfidence.MEDIUM


def test_sample_is_deterministic_for_a_seed(table: CalibrationTable) -> None:
    first = table.sample(random.Random(42), 500)
    assert first == table.sample(random.Random(42), 500)
    assert first != table.sample(random.Random(43), 500)
    assert len(first) == 500
    assert len(set(first)) > 450  # drawn across the whole table
    assert table.sample(random.Random(1), 0) == []


def test_sample_follows_oem_weights(table: CalibrationTable) -> None:
    drawn = table.sample(random.Random(5), 2_000, oem_weights={"Google": 3, "samsung": 1})
    counts = Counter(row.oem for row in drawn)
    assert set(counts) == {"google", "samsung"}
    assert 1_350 < counts["google"] < 1_650


@pytest.mark.parametrize(
    ("n", "weights", "message"),
    [
        (-1, None, "n must not be negative"),
        (5, {"apple": 1.0}, "'apple' is not in the calibration table"),
        (5, {"google": -1.0}, "must be finite and >= 0"),
        (5, {"google": float("nan")}, "must be finite"),
        (5, {"google": 0.0}, "at least one OEM weight must be positive"),
    ],
)
def test_sample_rejects_bad_arguments(
    table: CalibrationTable, n: int, weights: dict[str, float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        table.sample(random.Random(0), n, oem_weights=weights)


def test_from_csv_accepts_googles_layout_with_or_without_the_odd_space() -> None:
    text = "asus,K015,AST21,3,-22,1\ngoogle,flame,Pixel 4,8,-30,3\n"
    for header in (HEADER, HEADER.replace(" model", "model"), "\ufeff" + HEADER):
        table = CalibrationTable.from_csv(header + text)
        assert [row.model for row in table] == ["AST21", "Pixel 4"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.csv, line 1: header is None"),
        ("oem,device,model,rssi,tx,confidence\n", "t.csv, line 1: header is"),
        (HEADER, "t.csv: no device rows after the header"),
        (HEADER + "asus,K015,AST21,3,-22\n", "t.csv, line 2: 5 fields, expected 6"),
        (HEADER + "asus,K015,AST21,3,-22,1,9\n", "line 2: 7 fields"),
        (HEADER + "asus,K015,AST21,three,-22,1\n", "field 'rssi correction' is 'three'"),
        (HEADER + "asus,K015,AST21,3,-22.5,1\n", "field 'tx' is '-22.5', expected an integer"),
        (HEADER + "asus,K015,AST21,3,-200,1\n", "field 'tx' is '-200', expected an integer in"),
        (HEADER + "asus,K015,AST21,1_0,-22,1\n", "'1_0'"),
        (HEADER + "asus,K015,AST21,3,-22,4\n", "'calibration confidence' is '4'"),
        (HEADER + "asus,K015,,3,-22,1\n", "line 2: field 'model' is empty"),
        (HEADER + "a,b,c,1,1,1\na,b,c,1,1,3\n", "line 3: repeats device ('a', 'b', 'c')"),
        (HEADER + 'a,"b,1,1,1,1\n', "t.csv"),
    ],
)
def test_from_csv_reports_malformed_input_clearly(text: str, message: str) -> None:
    with pytest.raises(CalibrationDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CalibrationTable.from_csv(text, source="t.csv")


def test_calibration_data_error_is_a_notifica_error() -> None:
    assert issubclass(CalibrationDataError, NotificaError)


def test_device_calibration_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="tx_power_dbm must fit a signed byte"):
        _row("a", "b", "c", 0, -129, 1)
    with pytest.raises(ValueError, match="4 is not a valid CalibrationConfidence"):
        _row("a", "b", "c", 0, 0, 4)
    with pytest.raises(ValueError, match="at least one device"):
        CalibrationTable([])
