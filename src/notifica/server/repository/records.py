"""What the stores return: small frozen values, never ORM or SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "BatchInfo",
    "DailyCounts",
    "HisClient",
    "OperationalInfoRecord",
    "OtpGrant",
    "PendingKeys",
    "ProvinceNotifications",
    "StoredUpload",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class OtpGrant:
    """What a health operator authorised with an OTP (immuni-api.md §3.2)."""

    symptoms_started_on: date
    id_test_verification: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredUpload:
    """Keys and epidemiological info of one upload, as the ingestion service hands them over."""

    keys: tuple[tuple[bytes, int, int], ...]  # (key_data, rolling_start_number, rolling_period)
    province: str
    exposure_detection_summaries: list[dict[str, object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingKeys:
    """Unpublished keys, as columns (one publish may read 10⁶ of them)."""

    ids: list[int]
    key_data: list[bytes]
    rolling_start_numbers: list[int]
    rolling_periods: list[int]
    symptoms_started_on: list[date]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchInfo:
    """A published batch without its content."""

    index: int
    period_start: datetime
    period_end: datetime
    created_at: datetime
    key_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HisClient:
    """A health operators' system allowed to authorise OTPs."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationalInfoRecord:
    """One operational-info report (immuni-api.md §7.1), stored without any identifier."""

    platform: str
    province: str
    build: int | None
    exposure_permission: bool
    bluetooth_active: bool
    notification_permission: bool
    exposure_notification: bool
    last_risky_exposure_on: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyCounts:
    """What the admin page shows per UTC day."""

    day: date
    otps_authorised: int
    uploads_received: int
    batches_published: int
    keys_published: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvinceNotifications:
    """Operational-info reports of one province on one day, and how many were notified."""

    day: date
    province: str
    reports: int
    notifications: int
