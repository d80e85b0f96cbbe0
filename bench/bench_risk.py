"""Cost of GAEN risk scoring (v1 and v2) against a plain loop over the same sightings.

The baseline is the least any pure-Python scorer must do: one loop over the key's sightings
reading their time and attenuation (a running sum). Each line prints the time per call, the
baseline measured in the same run and the ratio, so figures compare across machines. The
last lines score one contact 1× and 16× as long, to show the cost per sighting stays flat
(no quadratic step).

A "contact" is 30 minutes at ~60 dB heard by scans every 240 s, 3 packets per scan (the GMS
4-second scan hears a 250 ms advertiser ~16 times; 3 keeps the sizes modest): 8 scans,
24 sightings, each with its previous-scan time.

    python bench/bench_risk.py [--quick]
"""

from __future__ import annotations

import platform
import sys
import timeit
from collections.abc import Callable, Sequence

from notifica.protocol import (
    IMMUNI_2020_10_ANDROID,
    DailySummariesConfig,
    DiagnosisKeysDataMapping,
    Infectiousness,
    KeyExposure,
    ReportType,
    Sighting,
    TemporaryExposureKey,
    daily_summaries,
    exposure_windows,
    summarize_exposures_v1,
)

KEY_START_INTERVAL = 2_642_976
NOON = KEY_START_INTERVAL * 600 + 12 * 3600
MAPPING = DiagnosisKeysDataMapping.from_onsets(
    {},
    report_type_when_missing=ReportType.CONFIRMED_TEST,
    infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
)
V2_CONFIG = DailySummariesConfig(
    attenuation_bucket_thresholds_db=(55, 63, 70),
    attenuation_bucket_weights=(1.0, 1.0, 0.5, 0.0),
    report_type_weights={ReportType.CONFIRMED_TEST: 1.0},
    infectiousness_weights={Infectiousness.STANDARD: 1.0},
)


def contact(seed: int, minutes: int = 30) -> KeyExposure:
    key = TemporaryExposureKey(
        key_data=seed.to_bytes(16, "big"),
        rolling_start_interval_number=KEY_START_INTERVAL,
        transmission_risk_level=8,
    )
    sightings = [
        Sighting(
            unix_s=NOON + scan * 240 + packet * 2,
            attenuation_db=58 + (scan + packet + seed) % 5,
            previous_scan_unix_s=NOON + (scan - 1) * 240,
        )
        for scan in range(minutes * 60 // 240)
        for packet in range(3)
    ]
    return KeyExposure(key=key, sightings=sightings)


def loop_baseline(exposures: Sequence[KeyExposure]) -> int:
    total = 0
    for exposure in exposures:
        for sighting in exposure.sightings:
            total += sighting.unix_s + sighting.attenuation_db
    return total


def _per_call(func: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number


def _line(name: str, func: Callable[[], object], baseline: Callable[[], object], n: int) -> float:
    took, base = _per_call(func, n), _per_call(baseline, n)
    print(f"{name:<44} {took * 1e6:9.1f} µs   baseline {base * 1e6:8.1f} µs   ×{took / base:5.1f}")
    return took


def main(argv: list[str]) -> None:
    scale = 10 if "--quick" in argv else 1
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    one = [contact(0)]
    twenty = [contact(seed) for seed in range(20)]
    rule = IMMUNI_2020_10_ANDROID.rule()
    n = 2_000 // scale
    _line(
        "summarize_exposures_v1, 1 key × 24 sightings",
        lambda: summarize_exposures_v1(one, rule.configuration, now_unix_s=NOON),
        lambda: loop_baseline(one),
        n,
    )
    _line(
        "exposure_windows + daily_summaries, 1 key",
        lambda: daily_summaries(exposure_windows(one, MAPPING), V2_CONFIG),
        lambda: loop_baseline(one),
        n,
    )
    _line(
        "ImmuniRiskRule.assess, 20 keys",
        lambda: rule.assess(twenty, now_unix_s=NOON),
        lambda: loop_baseline(twenty),
        n // 10,
    )
    sightings = [(s.unix_s, s.attenuation_db, s.previous_scan_unix_s) for s in one[0].sightings]
    _line(
        "KeyExposure(...) from 24 fresh Sightings",
        lambda: KeyExposure(
            key=one[0].key,
            sightings=[
                Sighting(unix_s=t, attenuation_db=a, previous_scan_unix_s=p)
                for t, a, p in sightings
            ],
        ),
        lambda: loop_baseline(one),
        n,
    )
    long = [contact(0, minutes=480)]
    short_took = _per_call(lambda: rule.assess(one, now_unix_s=NOON), n)
    long_took = _per_call(lambda: rule.assess(long, now_unix_s=NOON), max(1, n // 16))
    per_short = short_took / len(one[0].sightings)
    per_long = long_took / len(long[0].sightings)
    print(
        f"per sighting, 30-min vs 8-h contact: {per_short * 1e6:.2f} µs vs {per_long * 1e6:.2f} µs"
        f"   ×{per_long / per_short:.2f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
