"""Reporting positive: OTP back-off, the TEKs to upload, and the trimmed summaries.

- Back-off (immuni-api.md §4.3 step 3, IOS ``UploadDataVC.backOffDuration``): after n failed
  check-otp calls in the last 24 h, wait ``5 · 2^(n−1)`` s, at most 30 min, after the last one.
- TEKs: the 14 most recent keys (iOS caps at 14; immuni-api.md §6.1).
- Summaries (immuni-api.md §6.1, as iOS ``DataUploadRequest``): at most ``teks_max_summary_count``
  summaries of the last 14 days, the **least recent** first; then at most ``teks_max_info_count``
  exposure infos across them, by highest ``total_risk_score`` then least recent.
- The summaries are kept in the wire shape of ``exposure_detection_summaries`` (immuni-api.md
  §3.3): durations in seconds, dates ISO.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from notifica.phone._advertising import KEEP_DAYS, TekRecord, tek_from_record
from notifica.protocol import (
    ExposureDetectionSummaryPayload,
    ExposureInfoPayload,
    ExposureInformation,
    ExposureSummary,
    TekPayload,
    UploadRequest,
)

__all__ = [
    "BACKOFF_CAP_S",
    "otp_retry_after_s",
    "summary_record",
    "teks_for_upload",
    "trim_summaries",
    "upload_fields",
]

BACKOFF_BASE_S = 5
BACKOFF_CAP_S = 30 * 60
FAILURE_MEMORY_S = 86_400
"""Failures counted for the back-off: those of the last 24 h."""

MAX_UPLOADED_TEKS = 14


def otp_retry_after_s(failures_unix_s: Sequence[float], now: float) -> float:
    """Seconds before check-otp may be called again (0: now)."""
    recent = [t for t in failures_unix_s if now - t < FAILURE_MEMORY_S]
    if not recent:
        return 0.0
    wait = float(min(BACKOFF_BASE_S * 2 ** (len(recent) - 1), BACKOFF_CAP_S))
    return max(0.0, max(recent) + wait - now)


def recent_failures(failures_unix_s: Sequence[float], now: float) -> list[float]:
    return [t for t in failures_unix_s if now - t < FAILURE_MEMORY_S]


def teks_for_upload(records: Sequence[TekRecord]) -> list[TekPayload]:
    """The 14 most recent keys, as the upload carries them."""
    newest = sorted(records, key=lambda r: r[1])[-MAX_UPLOADED_TEKS:]
    return [TekPayload.from_key(tek_from_record(record)) for record in newest]


def upload_fields(
    *, teks: Sequence[TekPayload], province: str, summaries: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The upload body before padding, built through the wire schema (``protocol._wire``).

    Raises:
        ValueError: if a field does not satisfy the schema (a bug, or a damaged store).
    """
    request = UploadRequest(
        teks=list(teks),
        province=province,
        exposure_detection_summaries=[
            ExposureDetectionSummaryPayload.model_validate_json(json.dumps(record))
            for record in summaries
        ],
    )
    return request.model_dump(mode="json", exclude={"padding", "countries_of_interest"})


def summary_record(
    summary: ExposureSummary,
    infos: Sequence[ExposureInformation],
    *,
    detection_date: date,
    include_infos: bool,
) -> dict[str, Any]:
    """One detection's summary as ``exposure_detection_summaries`` carries it (JSON-ready).

    Durations go in seconds, 5-minute steps capped at 30 minutes (immuni-api.md §7.1).
    """
    payload = ExposureDetectionSummaryPayload(
        date=detection_date,
        matched_key_count=summary.matched_key_count,
        days_since_last_exposure=summary.days_since_last_exposure,
        attenuation_durations=[60 * m for m in summary.attenuation_durations_minutes],
        maximum_risk_score=summary.maximum_risk_score,
        exposure_info=[
            ExposureInfoPayload(
                date=info.date,
                duration=60 * min(info.duration_minutes, 30),
                attenuation_value=info.attenuation_value,
                attenuation_durations=[60 * m for m in info.attenuation_durations_minutes],
                transmission_risk_level=info.transmission_risk_level,
                total_risk_score=info.total_risk_score,
            )
            for info in (infos if include_infos else ())
        ],
    )
    return payload.model_dump(mode="json")


def drop_old_summaries(records: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    horizon = (today - timedelta(days=KEEP_DAYS)).isoformat()
    return [r for r in records if r["date"] >= horizon]


def trim_summaries(
    records: Sequence[dict[str, Any]],
    *,
    today: date,
    max_summaries: int,
    max_infos: int,
) -> list[dict[str, Any]]:
    """The summaries to upload, trimmed as immuni-api.md §6.1 says (see the module docstring)."""
    recent = sorted(drop_old_summaries(list(records), today), key=lambda r: r["date"])
    kept = [dict(r) for r in recent[:max_summaries]]
    ranked = sorted(
        (
            (-info["total_risk_score"], info["date"], s, i)
            for s, record in enumerate(kept)
            for i, info in enumerate(record.get("exposure_info", []))
        ),
    )
    chosen = {(s, i) for _, _, s, i in ranked[:max_infos]}
    for s, record in enumerate(kept):
        record["exposure_info"] = [
            info for i, info in enumerate(record.get("exposure_info", [])) if (s, i) in chosen
        ]
    return kept
