from __future__ import annotations

import random

import pytest

from notifica.protocol import (
    DiagnosisKeysDataMapping,
    ExposureWindow,
    Infectiousness,
    KeyExposure,
    ReportType,
    ScanInstance,
    Sighting,
    exposure_windows,
    seconds_since_last_scan,
)
from tests.protocol.risk_support import DAY_S, KEY_DAY_START, NOON, exposure, make_key

MAPPING = DiagnosisKeysDataMapping.from_onsets(
    {-2: Infectiousness.HIGH, 0: Infectiousness.HIGH, 5: Infectiousness.STANDARD},
    report_type_when_missing=ReportType.CONFIRMED_TEST,
    infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
)


def windows_of(*exposures: KeyExposure, **options: object) -> list[ExposureWindow]:
    return exposure_windows(exposures, MAPPING, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("t", "previous", "expected"),
    [
        (NOON, None, 120),  # unknown: defaultMinutesSinceLastScan = 2
        (NOON, 0, 120),  # GMS's 0 means unknown too
        (NOON, NOON - 59, 60),  # NOON is a whole minute: 12:00:00 − 11:59:01 → 1 minute
        (NOON + 59, NOON, 0),  # same minute
        (NOON, NOON - 240, 240),
        (NOON, NOON - 300, 300),
        (NOON, NOON - 301, 300),  # capped at 5 minutes
        (NOON, NOON - 3600, 300),
    ],
)
def test_seconds_since_last_scan_counts_whole_minutes_capped_at_five(
    t: int, previous: int | None, expected: int
) -> None:
    assert seconds_since_last_scan(t, previous) == expected


def test_packets_up_to_25_5_s_apart_share_a_scan_instance() -> None:
    (window,) = windows_of(exposure([0, 25, 50, 76], [60, 61, 70, 64]))
    first, second = window.scan_instances
    assert (first.typical_attenuation_db, first.min_attenuation_db) == (64, 60)  # 191/3 = 63.7
    assert (second.typical_attenuation_db, second.min_attenuation_db) == (64, 64)


def test_typical_attenuation_rounds_halves_up() -> None:
    (window,) = windows_of(exposure([0, 1], [60, 61]))
    assert window.scan_instances[0].typical_attenuation_db == 61  # 60.5; round() gives 60


def test_scan_instance_weight_comes_from_its_first_packet() -> None:
    sightings = [
        Sighting(unix_s=NOON, attenuation_db=60, previous_scan_unix_s=NOON - 240),
        Sighting(unix_s=NOON + 5, attenuation_db=60, previous_scan_unix_s=None),
        Sighting(unix_s=NOON + 270, attenuation_db=60, previous_scan_unix_s=None),
    ]
    (window,) = windows_of(KeyExposure(key=make_key(), sightings=sightings))
    assert [s.seconds_since_last_scan for s in window.scan_instances] == [240, 120]
    assert window.duration_s == 360


def test_windows_are_cut_30_minutes_after_their_first_sighting() -> None:
    # The cut is measured from the window's start, not chained: 0..1799 is one window.
    (one,) = windows_of(exposure(range(0, 1800, 300), 60))
    first, second = windows_of(exposure([0, 300, 1799, 1800], 60))
    assert len(one.scan_instances) == 6
    assert len(first.scan_instances) == 3
    assert len(second.scan_instances) == 1


def test_a_scan_straddling_the_cut_is_split() -> None:
    first, second = windows_of(exposure([0, 1790, 1800], [60, 50, 70]))
    assert first.scan_instances[-1].min_attenuation_db == 50
    assert second.scan_instances[0].typical_attenuation_db == 70


def test_sightings_are_not_merged_per_scan_in_v2() -> None:
    (window,) = windows_of(exposure([0, 10, 20], [50, 60, 70]))
    assert window.scan_instances == (
        ScanInstance(typical_attenuation_db=60, min_attenuation_db=50, seconds_since_last_scan=120),
    )


def test_window_date_is_the_day_of_its_first_sighting() -> None:
    late = KEY_DAY_START + DAY_S - 600
    first, second = windows_of(exposure([0, 540, 1800], 60, start=late))
    assert first.date_unix_s == KEY_DAY_START  # contains a sighting after midnight
    assert second.date_unix_s == KEY_DAY_START + DAY_S
    assert second.days_since_epoch == first.days_since_epoch + 1


def test_window_calibration_confidence_comes_from_its_first_sighting() -> None:
    sightings = [
        Sighting(unix_s=NOON, attenuation_db=60, calibration_confidence=3),
        Sighting(unix_s=NOON + 300, attenuation_db=60, calibration_confidence=1),
        Sighting(unix_s=NOON + 1800, attenuation_db=60, calibration_confidence=2),
    ]
    windows = windows_of(KeyExposure(key=make_key(), sightings=sightings))
    assert [w.calibration_confidence for w in windows] == [3, 2]


@pytest.mark.parametrize(
    ("key_type", "when_missing", "enable_recursive", "expected"),
    [
        (ReportType.CONFIRMED_TEST, ReportType.SELF_REPORT, False, ReportType.CONFIRMED_TEST),
        (ReportType.UNKNOWN, ReportType.SELF_REPORT, False, ReportType.SELF_REPORT),
        (ReportType.UNKNOWN, ReportType.REVOKED, False, None),
        (ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, ReportType.SELF_REPORT, False,
         ReportType.CONFIRMED_CLINICAL_DIAGNOSIS),
        (ReportType.REVOKED, ReportType.SELF_REPORT, True, None),
        (ReportType.RECURSIVE, ReportType.SELF_REPORT, False, None),
        (ReportType.RECURSIVE, ReportType.SELF_REPORT, True, ReportType.RECURSIVE),
    ],
)  # fmt: skip
def test_report_types_of_windows(
    key_type: ReportType,
    when_missing: ReportType,
    enable_recursive: bool,
    expected: ReportType | None,
) -> None:
    mapping = DiagnosisKeysDataMapping.from_onsets(
        {},
        report_type_when_missing=when_missing,
        infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
    )
    contact = exposure([0], 60, key=make_key(report_type=key_type))
    windows = exposure_windows([contact], mapping, enable_recursive=enable_recursive)
    assert [w.report_type for w in windows] == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        (None, Infectiousness.STANDARD),  # unset → the "missing" value
        (-15, Infectiousness.STANDARD),  # beyond ±14 → the "missing" value
        (15, Infectiousness.STANDARD),
        (-14, None),  # in the table as NONE → dropped
        (-2, Infectiousness.HIGH),
        (0, Infectiousness.HIGH),
        (5, Infectiousness.STANDARD),
        (14, None),
    ],
)
def test_infectiousness_of_windows(onset: int | None, expected: Infectiousness | None) -> None:
    contact = exposure([0], 60, key=make_key(days_since_onset_of_symptoms=onset))
    assert [w.infectiousness for w in windows_of(contact)] == (
        [] if expected is None else [expected]
    )


def test_windows_come_back_sorted_by_start_or_shuffled_by_the_caller() -> None:
    a = exposure([600, 3000], 60, key=make_key(seed=1))
    b = exposure([0, 1200], 70, key=make_key(seed=2))
    ordered = windows_of(a, b)
    firsts = [w.scan_instances[0].typical_attenuation_db for w in ordered]
    assert firsts == [70, 60, 60]  # starts 0 (b), 600 (a), 3000 (a)
    shuffled = windows_of(a, b, shuffler=random.Random(7))
    expected = list(ordered)
    random.Random(7).shuffle(expected)
    assert shuffled == expected


def test_keys_without_sightings_give_no_window() -> None:
    assert windows_of(KeyExposure(key=make_key())) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"days_since_onset_to_infectiousness": (Infectiousness.HIGH,) * 28}, "29"),
        ({"days_since_onset_to_infectiousness": (3,) * 29}, "infectiousness"),
        ({"report_type_when_missing": ReportType.UNKNOWN}, "report_type_when_missing"),
        ({"infectiousness_when_days_since_onset_missing": 7}, "infectiousness"),
    ],
)
def test_bad_mappings_are_rejected(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "days_since_onset_to_infectiousness": (Infectiousness.STANDARD,) * 29,
        "report_type_when_missing": ReportType.CONFIRMED_TEST,
        "infectiousness_when_days_since_onset_missing": Infectiousness.NONE,
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        DiagnosisKeysDataMapping(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("onset", [-15, 15])
def test_from_onsets_rejects_onsets_beyond_14_days(onset: int) -> None:
    with pytest.raises(ValueError, match=r"-14\.\.14"):
        DiagnosisKeysDataMapping.from_onsets(
            {onset: Infectiousness.HIGH},
            report_type_when_missing=ReportType.CONFIRMED_TEST,
            infectiousness_when_days_since_onset_missing=Infectiousness.HIGH,
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"typical_attenuation_db": 59}, "min_attenuation_db"),
        ({"typical_attenuation_db": 256}, "typical_attenuation_db"),
        ({"seconds_since_last_scan": 301}, "seconds_since_last_scan"),
        ({"seconds_since_last_scan": -1}, "seconds_since_last_scan"),
    ],
)
def test_scan_instance_validates(fields: dict[str, int], message: str) -> None:
    values = {
        "typical_attenuation_db": 60,
        "min_attenuation_db": 60,
        "seconds_since_last_scan": 300,
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        ScanInstance(**values)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"date_unix_s": NOON}, "date_unix_s"),
        ({"scan_instances": ()}, "scan_instances"),
        ({"calibration_confidence": 4}, "calibration_confidence"),
        ({"infectiousness": 3}, "Infectiousness"),
    ],
)
def test_exposure_window_validates(fields: dict[str, object], message: str) -> None:
    scan = ScanInstance(
        typical_attenuation_db=60, min_attenuation_db=60, seconds_since_last_scan=300
    )
    values: dict[str, object] = {
        "date_unix_s": KEY_DAY_START,
        "scan_instances": (scan,),
        "report_type": ReportType.CONFIRMED_TEST,
        "infectiousness": Infectiousness.STANDARD,
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        ExposureWindow(**values)  # type: ignore[arg-type]
