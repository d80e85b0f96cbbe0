"""Publishing: pending keys → numbered, signed batches (immuni-api.md §5.2–§5.4).

Rules, in order, all inside one database transaction under the publisher lock (a crash or a
kill leaves every batch of the run or none, and every key either still pending or in exactly
one batch):

1. a key created before ``symptoms_started_on − 2 days`` is never published, and is dropped
   (``DAYS_BEFORE_SYMPTOMS_TO_CONSIDER_KEY_AT_RISK``, §5.2);
2. a key still valid now is held back until it has expired (``EXCLUDE_CURRENT_DAY_TEK``),
   and not even read: a run reads only the expired keys, so its memory does not grow with
   the day's held-back keys;
3. the rest are sorted by key bytes (so that one device's keys are not adjacent, §5.3) and cut
   into batches of at most ``max_keys_per_batch`` (10 000), each numbered last index + 1;
4. every published key gets transmission risk level 8 (§5.2, §12.8);
5. batches of one run share their start; their end timestamps differ by one second each, so
   Android does not mistake split files for one (Google, peers.md §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from notifica.clock import Clock
from notifica.protocol import (
    INTERVAL_SECONDS,
    ExportSigner,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    interval_number_at,
    write_export_zip,
)
from notifica.server.repository import PendingKeys, Repository
from notifica.server.settings import Settings

__all__ = ["PUBLISHED_TRANSMISSION_RISK_LEVEL", "PublishReport", "first_risky_interval", "publish"]

PUBLISHED_TRANSMISSION_RISK_LEVEL = 8
"""Immuni writes the highest level on every key, whatever the client sent (§5.2, §12.8)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """What one run did."""

    batches: tuple[int, ...] = ()
    keys_published: int = 0
    keys_discarded: int = 0
    keys_held_back: int = 0
    locked: bool = False
    """True when another publisher held the lock and this run did nothing."""


def first_risky_interval(symptoms_started_on: date, *, days_before: int) -> int:
    """The first interval of the first day whose keys are published (onset − `days_before`)."""
    first_day = symptoms_started_on - timedelta(days=days_before)
    return interval_number_at(datetime.combine(first_day, time(), UTC))


def _classify(
    pending: PendingKeys, *, now: datetime, days_before: int
) -> tuple[list[int], list[int], int]:
    """(indices to publish, ids to drop, number held back)."""
    now_s = now.timestamp()
    thresholds: dict[date, int] = {}
    eligible: list[int] = []
    dropped: list[int] = []
    held = 0
    for i, (start, period, onset) in enumerate(
        zip(
            pending.rolling_start_numbers,
            pending.rolling_periods,
            pending.symptoms_started_on,
            strict=True,
        )
    ):
        first = thresholds.get(onset)
        if first is None:
            first = thresholds[onset] = first_risky_interval(onset, days_before=days_before)
        if start < first:
            dropped.append(pending.ids[i])
        elif (start + period) * INTERVAL_SECONDS > now_s:
            held += 1
        else:
            eligible.append(i)
    return eligible, dropped, held


def publish(
    repository: Repository, signer: ExportSigner, clock: Clock, settings: Settings
) -> PublishReport:
    """Turn every publishable pending key into signed batches, in one transaction.

    Raises:
        DatabaseLocked: SQLite only, when another writer kept the lock past the busy timeout.
        DatabaseError: if the database fails; nothing is published then.
    """
    now = clock.now()
    with repository.batches.publishing() as session:
        if session is None:
            return PublishReport(locked=True)
        now_interval = int(now.timestamp()) // INTERVAL_SECONDS
        pending = session.pending(expired_by=now_interval)
        eligible, dropped, held = _classify(
            pending, now=now, days_before=settings.days_before_onset_at_risk
        )
        held += session.count_unexpired(at=now_interval)
        eligible.sort(key=pending.key_data.__getitem__)
        last = session.last_published()
        index = last[0] if last else 0
        period_start = last[1] if last else now - timedelta(seconds=settings.publish_interval_s)
        period_start = min(period_start, now)
        size = settings.max_keys_per_batch
        published: list[int] = []
        indices: list[int] = []
        for n, offset in enumerate(range(0, len(eligible), size)):
            chunk = eligible[offset : offset + size]
            keys = tuple(
                TemporaryExposureKey(
                    key_data=pending.key_data[i],
                    rolling_start_interval_number=pending.rolling_start_numbers[i],
                    rolling_period=pending.rolling_periods[i],
                    transmission_risk_level=PUBLISHED_TRANSMISSION_RISK_LEVEL,
                )
                for i in chunk
            )
            index += 1
            export = TemporaryExposureKeyExport(
                start_timestamp=int(period_start.timestamp()),
                end_timestamp=int(now.timestamp()) + n,
                region=settings.region,
                batch_num=1,
                batch_size=1,
                keys=keys,
            )
            session.add_batch(
                index=index,
                period_start=period_start,
                period_end=now,
                created_at=now,
                key_count=len(keys),
                content=write_export_zip(export, [signer]),
            )
            indices.append(index)
            published.extend(pending.ids[i] for i in chunk)
        if indices:
            session.set_last_published(index=index, period_end=now)
        session.remove_keys(dropped + published)
    return PublishReport(
        batches=tuple(indices),
        keys_published=len(published),
        keys_discarded=len(dropped),
        keys_held_back=held,
    )
