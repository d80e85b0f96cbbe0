"""What the health authority's portal shows: counts per day and analytics per province."""

from __future__ import annotations

from datetime import timedelta

from notifica.clock import Clock
from notifica.server.repository import DailyCounts, ProvinceNotifications, Repository

__all__ = ["AdminService"]


class AdminService:
    """Aggregates only: no record of a citizen leaves through here."""

    def __init__(self, repository: Repository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def daily_counts(self, *, days: int = 14) -> list[DailyCounts]:
        """OTPs authorised, uploads received, batches and keys published per day.

        Raises:
            ValueError: if `days` is not positive.
        """
        if days < 1:
            raise ValueError(f"days must be positive, got {days}")
        since = self._clock.now().date() - timedelta(days=days - 1)
        return self._repository.counts.daily(since=since)

    def notifications_by_province(self, *, days: int = 30) -> list[ProvinceNotifications]:
        """Operational-info reports and exposure notifications per day and province.

        Raises:
            ValueError: if `days` is not positive.
        """
        if days < 1:
            raise ValueError(f"days must be positive, got {days}")
        since = self._clock.now().date() - timedelta(days=days - 1)
        return self._repository.analytics.notifications_by_province(since=since)
