"""Retention: uploads and batches after 14 days, analytics after 30, everything after the sunset.

immuni-api.md §5.5: by creation time, not key age (§12.9). Expired OTPs, analytics-token slots
and attestation salts go too. On and after ``data_sunset`` every citizen record is deleted at
each run (Immuni promised all data gone by 31 December 2020).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from notifica.clock import Clock
from notifica.server.repository import Repository
from notifica.server.settings import Settings

__all__ = ["RetentionReport", "retention"]

_log = logging.getLogger("notifica.server.retention")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionReport:
    """Rows deleted by one run."""

    unpublished_keys_deleted: int = 0
    batches_deleted: int = 0
    otps_deleted: int = 0
    analytics_deleted: int = 0
    exposure_payloads_deleted: int = 0
    sunset_rows_deleted: int = 0
    sunset: bool = False


def retention(repository: Repository, clock: Clock, settings: Settings) -> RetentionReport:
    """Delete what is past its retention; everything if the data sunset has passed.

    Raises:
        DatabaseError: if the database fails (deletions already committed stay).
    """
    now = clock.now()
    if settings.data_sunset is not None and now.date() > settings.data_sunset:
        removed = repository.wipe_citizen_data(now=now)
        return RetentionReport(sunset_rows_deleted=removed, sunset=True)
    midnight = datetime.combine(now.date(), time(), now.tzinfo)
    data_cutoff = midnight - timedelta(days=settings.data_retention_days)
    analytics_cutoff = midnight - timedelta(days=settings.analytics_retention_days)
    keys = repository.uploads.delete_received_before(data_cutoff)
    if keys:
        _log.error("retention deleted %d keys that were never published", keys)
    batches = repository.batches.delete_created_before(data_cutoff)
    otps = repository.otps.delete_expired(now=now)
    analytics = repository.analytics.delete_before(day=analytics_cutoff.date(), now=now)
    payloads = repository.uploads.delete_payloads_before(analytics_cutoff)
    repository.delete_logs_before(analytics_cutoff.date())
    return RetentionReport(
        unpublished_keys_deleted=keys,
        batches_deleted=batches,
        otps_deleted=otps,
        analytics_deleted=analytics,
        exposure_payloads_deleted=payloads,
    )
