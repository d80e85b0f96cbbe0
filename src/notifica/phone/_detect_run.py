"""One exposure detection run against the backend, and what it changes in the phone's state.

The caller passes a *copy* of the state and saves it in one store transaction only if this
returns, so a failure or a kill at any point leaves the previous state (rule 1 of `_store`).
Problems that the brief lists — a server that times out, answers 5xx or garbage, a truncated
or badly signed batch, an index going backwards — become entries of the report's
``problems``; the state keeps its last processed index and the run is retried next period.

State updates (immuni-api.md §9.3): a risky exposure notifies when the status allows it
(`NOTIFIES`: never once positive) and the last contact date is new or later than the known
one; reminders then follow every ``risk_reminder_notification_period`` until acknowledged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from notifica.phone._advertising import KEEP_DAYS
from notifica.phone._detection import (
    DetectionCache,
    PreparedBatch,
    batches_to_fetch,
    key_exposures,
)
from notifica.phone._http import ImmuniHttp
from notifica.phone._model import CovidStatus, PhoneState
from notifica.phone._reporting import drop_old_summaries, summary_record
from notifica.phone._settings import AppSettings
from notifica.phone._state import NOTIFIES, Event, next_status
from notifica.phone._status import DetectionReport
from notifica.phone._store import PhoneStore
from notifica.phone.errors import BadServerResponse, ServerError
from notifica.protocol import (
    IMMUNI_PRESETS,
    ImmuniRiskRule,
    InvalidSignature,
    KeysIndex,
    MalformedPayload,
    MalformedWireMessage,
    ProtocolError,
    RiskRule,
    UnsupportedAlgorithm,
    parse_wire,
)

__all__ = ["DetectionContext", "detect_once", "risk_rule_for"]

DAY_S = 86_400

MAX_BATCH_INDEX = 2**63 - 1
"""Batch indices are positive integers up to ``sys.maxsize`` (REP ``/v1/keys/{index}``
accepts [1, maxsize], immuni-api.md §3.5)."""

DEFAULT_PRESET = "immuni-2020-10-android"
"""The rule when the server sends no ``exposure_configuration``: Android's production rule
as of 27 October 2020 (≤ 63 dB for more than 15 minutes, threshold 20), whose threshold is
also the in-app default of ``exposure_info_minimum_risk_score`` (immuni-api.md §8)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionContext:
    """What a detection needs besides the state."""

    http: ImmuniHttp
    store: PhoneStore
    cache: DetectionCache
    public_keys: Mapping[tuple[str, str], bytes]
    rule: RiskRule | None
    platform: str
    build: int


def risk_rule_for(raw_settings: Mapping[str, Any], settings: AppSettings) -> RiskRule:
    """Immuni's v1 rule with the server's configuration, or the October 2020 preset."""
    if "exposure_configuration" not in raw_settings:
        return IMMUNI_PRESETS[DEFAULT_PRESET].rule()
    try:
        return ImmuniRiskRule.from_immuni_settings(
            {
                **raw_settings,
                "exposure_info_minimum_risk_score": settings.exposure_info_minimum_risk_score,
            }
        )
    except (ProtocolError, ValueError, TypeError) as exc:
        raise BadServerResponse(f"settings: bad exposure_configuration: {exc}") from exc


def _index_bounds(body: bytes) -> tuple[int, int]:
    try:
        index = parse_wire(KeysIndex, body)
    except MalformedWireMessage as exc:
        raise BadServerResponse(f"keys index: {exc}") from exc
    oldest, newest = index.oldest, index.newest
    if not (1 <= oldest <= MAX_BATCH_INDEX and 1 <= newest <= MAX_BATCH_INDEX):
        raise BadServerResponse(
            f"keys index: indices must be in 1..{MAX_BATCH_INDEX}, got {oldest}..{newest}"
        )
    if oldest > newest:
        raise BadServerResponse(f"keys index: oldest {oldest} is after newest {newest}")
    return oldest, newest


async def detect_once(
    ctx: DetectionContext, state: PhoneState, now: datetime
) -> tuple[DetectionReport, AppSettings | None]:
    """Run one detection, updating `state` (a copy) in place; see the module docstring."""
    now_s = now.timestamp()
    state.last_detection_unix_s = now_s
    state.detections_run += 1
    try:
        raw_settings = await ctx.http.get_settings(platform=ctx.platform, build=ctx.build)
        settings = AppSettings.from_immuni(raw_settings)
        rule = ctx.rule if ctx.rule is not None else risk_rule_for(raw_settings, settings)
        state.next_detection_unix_s = now_s + settings.exposure_detection_period
        raw_index = await ctx.http.get_index()
    except ServerError as exc:
        return _failed(state, now, str(exc)), None
    if raw_index is None:  # no batch published in the last 14 days
        state.detection_problems = []
        return DetectionReport(ran_at=now), settings
    try:
        oldest, newest = _index_bounds(raw_index)
    except BadServerResponse as exc:
        return _failed(state, now, str(exc)), settings
    last = state.last_processed_index
    if last is not None and newest < last:
        message = f"keys index went backwards: newest {newest} < last processed {last}"
        return _failed(state, now, message), settings

    prepared: list[PreparedBatch] = []
    processed: list[int] = []
    failed: list[int] = []
    problems: list[str] = []
    for index in batches_to_fetch(
        oldest=oldest, newest=newest, last_processed=last, retry=state.retry_indices
    ):
        try:
            data = await ctx.http.get_batch(index)
        except BadServerResponse as exc:
            failed.append(index)
            problems.append(f"batch {index}: {exc}")
            continue
        except ServerError as exc:
            return _failed(state, now, f"batch {index}: {exc}"), settings
        try:
            prepared.append(ctx.cache.prepare(data, ctx.public_keys))
            processed.append(index)
        except (MalformedPayload, InvalidSignature, UnsupportedAlgorithm) as exc:
            failed.append(index)
            problems.append(f"batch {index} skipped, not trusted: {exc}")

    sightings = ctx.store.observations_since(int(now_s) - KEEP_DAYS * DAY_S)
    outcome = key_exposures(prepared, sightings, ctx.cache.backend)
    assessment = rule.assess(outcome.exposures, now_unix_s=int(now_s))
    today = now.date()
    notified = _apply_assessment(state, assessment.is_at_risk, assessment.last_contact_date, now)
    if assessment.summary is not None and assessment.summary.matched_key_count > 0:
        include = assessment.is_at_risk
        state.summaries.append(
            summary_record(
                assessment.summary, assessment.infos, detection_date=today, include_infos=include
            )
        )
    state.summaries = drop_old_summaries(state.summaries, today)
    state.last_processed_index = newest if last is None else max(last, newest)
    state.retry_indices = sorted(set(failed))
    state.detection_problems = problems
    return (
        DetectionReport(
            ran_at=now,
            batches_processed=tuple(processed),
            batches_failed=tuple(failed),
            matched_keys=len(outcome.exposures),
            matched_key_data=tuple(e.key.key_data for e in outcome.exposures),
            matched_sightings=outcome.matched_sightings,
            dropped_sightings=outcome.dropped_sightings,
            is_at_risk=assessment.is_at_risk,
            notified=notified,
            last_contact_date=assessment.last_contact_date,
            problems=tuple(problems),
        ),
        settings,
    )


def _failed(state: PhoneState, now: datetime, message: str) -> DetectionReport:
    state.detection_problems = [message]
    if state.next_detection_unix_s is None or state.next_detection_unix_s <= now.timestamp():
        state.next_detection_unix_s = now.timestamp() + AppSettings().exposure_detection_period
    return DetectionReport(ran_at=now, problems=(message,))


def _apply_assessment(
    state: PhoneState, at_risk: bool, last_contact: date | None, now: datetime
) -> bool:
    """Update the status for a risky exposure; return whether the user is notified."""
    if not at_risk or last_contact is None or not NOTIFIES[state.status]:
        return False
    if last_contact <= now.date() - timedelta(days=KEEP_DAYS):
        return False  # older than an alert lasts (immuni-api.md §9.3 step 6)
    known = state.last_contact_date if state.status is CovidStatus.RISK else None
    if known is not None and last_contact <= known:
        return False
    state.status = next_status(state.status, Event.RISKY_EXPOSURE)
    state.last_contact_date = last_contact
    state.alert_acknowledged = False
    state.notifications_shown += 1
    state.next_reminder_unix_s = None  # set by the phone from the current settings
    return True
