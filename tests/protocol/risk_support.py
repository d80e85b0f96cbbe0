"""Builders shared by the risk-scoring tests: keys, sightings and contacts in a few words."""

from __future__ import annotations

from collections.abc import Iterable

from notifica.protocol import KeyExposure, ReportType, Sighting, TemporaryExposureKey

DAY_S = 86_400
KEY_DAY_INTERVAL = 2_642_976
"""2020-04-02T00:00:00Z, the official vectors' key start (protocol.md §2)."""
KEY_DAY_START = KEY_DAY_INTERVAL * 600
NOON = KEY_DAY_START + 12 * 3600

IMMUNI_EXPOSURE_CONFIGURATION: dict[str, object] = {
    "attenuation_thresholds": [50, 70],
    "attenuation_bucket_scores": [0, 0, 5, 5, 5, 5, 5, 5],
    "attenuation_weight": 1,
    "days_since_last_exposure_bucket_scores": [1, 1, 1, 1, 1, 1, 1, 1],
    "days_since_last_exposure_weight": 1,
    "duration_bucket_scores": [0, 0, 0, 0, 5, 5, 5, 5],
    "duration_weight": 1,
    "transmission_risk_bucket_scores": [1, 1, 1, 1, 1, 1, 1, 1],
    "transmission_risk_weight": 1,
    "minimum_risk_score": 1,
}
"""Immuni's October 2020 Android ``exposure_configuration`` as the settings JSON holds it."""


def make_key(
    *,
    rolling_start_interval_number: int = KEY_DAY_INTERVAL,
    transmission_risk_level: int = 8,
    report_type: ReportType = ReportType.CONFIRMED_TEST,
    days_since_onset_of_symptoms: int | None = None,
    seed: int = 0,
) -> TemporaryExposureKey:
    return TemporaryExposureKey(
        key_data=seed.to_bytes(16, "big"),
        rolling_start_interval_number=rolling_start_interval_number,
        transmission_risk_level=transmission_risk_level,
        report_type=report_type,
        days_since_onset_of_symptoms=days_since_onset_of_symptoms,
    )


def sightings_at(
    times: Iterable[int], attenuation: int | Iterable[int], *, start: int = NOON
) -> list[Sighting]:
    """One packet per offset in `times` (seconds after `start`), at the given attenuation(s)."""
    offsets = list(times)
    values = [attenuation] * len(offsets) if isinstance(attenuation, int) else list(attenuation)
    return [
        Sighting(unix_s=start + t, attenuation_db=a) for t, a in zip(offsets, values, strict=True)
    ]


def exposure(
    times: Iterable[int],
    attenuation: int | Iterable[int],
    *,
    key: TemporaryExposureKey | None = None,
    start: int = NOON,
) -> KeyExposure:
    return KeyExposure(
        key=key or make_key(), sightings=sightings_at(times, attenuation, start=start)
    )


def contact(
    duration_s: int, spacing_s: int, phase_s: int, attenuation: int, *, start: int = NOON
) -> KeyExposure:
    """A contact over [start, start + duration) heard by scans every `spacing_s`, the first
    one `phase_s` after the contact began."""
    return exposure(range(phase_s, duration_s, spacing_s), attenuation, start=start)
