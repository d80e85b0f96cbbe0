"""Operational info and iOS analytics tokens (immuni-api.md §3.6, §7).

Every real request is answered 204 whatever happens to it (as Immuni did): a client cannot
learn whether its report was kept, so a broken or forged one gains nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from datetime import date, datetime, timedelta

from notifica.clock import Clock
from notifica.protocol import (
    AppleOperationalInfoRequest,
    GoogleOperationalInfoRequest,
    OperationalInfoFields,
    operational_info_nonce,
)
from notifica.server.attestation import AttestationVerifier, InvalidAttestation
from notifica.server.devicecheck import DeviceCheck, DeviceCheckError, authorize_device
from notifica.server.repository import DatabaseError, OperationalInfoRecord, Repository
from notifica.server.settings import Settings
from notifica.server.timing import Sleeper

__all__ = ["AnalyticsService", "first_of_month", "next_month"]

_log = logging.getLogger("notifica.server.analytics")


def first_of_month(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    first = first_of_month(day)
    return (first + timedelta(days=32)).replace(day=1)


def _record(platform: str, info: OperationalInfoFields) -> OperationalInfoRecord:
    return OperationalInfoRecord(
        platform=platform,
        province=info.province,
        build=info.build,
        exposure_permission=bool(info.exposure_permission),
        bluetooth_active=bool(info.bluetooth_active),
        notification_permission=bool(info.notification_permission),
        exposure_notification=bool(info.exposure_notification),
        # Stored only when the user was notified (immuni-api.md §3.6).
        last_risky_exposure_on=info.last_risky_exposure_on if info.exposure_notification else None,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnalyticsService:
    """Operational info without any link to uploads, devices or tokens."""

    def __init__(
        self,
        repository: Repository,
        clock: Clock,
        settings: Settings,
        *,
        attestation: AttestationVerifier | None,
        device_check: DeviceCheck | None,
        sleeper: Sleeper,
        rng: random.Random,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings
        self._attestation = attestation
        self._device_check = device_check
        self._sleeper = sleeper
        self._rng = rng
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def google_operational_info(self, request: GoogleOperationalInfoRequest) -> bool:
        """Verify the attestation and the salt, then store; True if stored."""
        if self._attestation is None:
            return False
        now = self._clock.now()
        try:
            self._attestation.verify(
                request.signed_attestation,
                expected_nonce=operational_info_nonce(request, request.salt),
                now=now,
            )
        except InvalidAttestation as exc:
            _log.info("android operational info dropped: %s", exc)
            return False
        window = timedelta(seconds=self._settings.attestation_salt_window_s)
        if not self._repository.analytics.use_salt(
            salt_hash=_sha256(request.salt), now=now, expires_at=now + window
        ):
            return False
        self._repository.analytics.add_operational_info(
            _record("android", request), received_on=now.date()
        )
        return True

    def apple_operational_info(self, token: str, request: AppleOperationalInfoRequest) -> bool:
        """Use the token's slot for this month and kind, then store; True if stored."""
        now = self._clock.now()
        return self._repository.analytics.consume_token_slot_and_add(
            token_hash=_sha256(token),
            month=first_of_month(now.date()),
            record=_record("ios", request),
            received_on=now.date(),
            now=now,
        )

    def token_is_authorised(self, token: str) -> bool:
        """Whether the analytics token has been authorised (→ 201)."""
        return self._repository.analytics.has_token(
            token_hash=_sha256(token), now=self._clock.now()
        )

    def start_token_authorisation(self, token: str, device_token: str) -> None:
        """Run the DeviceCheck dance in the background (→ 202); the client asks again later."""
        if self._device_check is None:
            return
        token_hash = _sha256(token)
        if token_hash in self._in_flight:
            return
        self._in_flight.add(token_hash)
        task = asyncio.get_running_loop().create_task(
            self._authorise(token_hash, device_token), name="notifica-analytics-token"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _authorise(self, token_hash: str, device_token: str) -> None:
        assert self._device_check is not None
        try:
            now = self._clock.now()
            allowed = await authorize_device(
                self._device_check, device_token, now=now, sleeper=self._sleeper, rng=self._rng
            )
            if allowed:
                await asyncio.to_thread(self._store_token, token_hash, now)
        except DeviceCheckError as exc:
            _log.info("analytics token not authorised: %s", exc)
        except DatabaseError as exc:  # a background task: nobody else would see it
            _log.error("analytics token authorised but not stored: %s", exc)
        finally:
            self._in_flight.discard(token_hash)

    def _store_token(self, token_hash: str, now: datetime) -> None:
        today = now.date()
        self._repository.analytics.authorise_token(
            token_hash=token_hash,
            months=[first_of_month(today), next_month(today)],
            expires_at=now + timedelta(days=self._settings.analytics_token_ttl_days),
        )

    async def drain(self) -> None:
        """Wait for background authorisations (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
