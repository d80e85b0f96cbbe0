"""check-otp and upload (immuni-api.md §3.3, §5.1, §12).

Differences from Immuni's code, on purpose (README, "Where notifica differs"):

* an invalid TEK list is a 400 and the OTP is *not* consumed (Immuni dropped the keys,
  consumed the OTP and answered 204, §12.3);
* dummy requests are recognised from their header before anything is parsed further or
  stored (§12.2); the router holds every response, real or dummy, to one release schedule.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

from notifica.clock import Clock
from notifica.protocol import (
    MalformedWireMessage,
    UploadRequest,
    interval_number_at,
    validate_tek_list,
)
from notifica.server.errors import SchemaError, UnauthorizedOtp
from notifica.server.repository import Repository, StoredUpload
from notifica.server.settings import Settings

__all__ = ["IngestionService"]


class IngestionService:
    """The exposure-ingestion rules; the OTP token is the bearer SHA-256 hex."""

    def __init__(
        self, repository: Repository, clock: Clock, settings: Settings, rng: random.Random
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings
        self._rng = rng

    def check_otp(self, token: str) -> None:
        """Succeed if the OTP is authorised and alive; does not consume it.

        Raises:
            UnauthorizedOtp: unknown, expired or used.
        """
        if self._repository.otps.find_live(token_hash=token, now=self._clock.now()) is None:
            raise UnauthorizedOtp()

    async def check_otp_async(self, token: str) -> None:
        """`check_otp` without blocking the event loop (see `upload_async`).

        Raises:
            UnauthorizedOtp: unknown, expired or used.
        """
        statements = self._repository.async_ingestion
        if statements is None:
            await asyncio.to_thread(self.check_otp, token)
        elif await statements.find_live(token_hash=token, now=self._clock.now()) is None:
            raise UnauthorizedOtp()

    def upload(self, token: str, request: UploadRequest) -> None:
        """Validate the keys, then consume the OTP and store the upload in one transaction.

        Raises:
            SchemaError: keys breaking §5.1, or an unknown province; nothing is consumed.
            UnauthorizedOtp: unknown, expired or used OTP; nothing is stored.
        """
        now = self._clock.now()
        grant = self._repository.uploads.consume_otp_and_store(
            token_hash=token, upload=self._validated(request, now), now=now
        )
        if grant is None:
            raise UnauthorizedOtp()

    async def upload_async(self, token: str, request: UploadRequest) -> None:
        """`upload` without blocking the event loop: on PostgreSQL one statement through the
        repository's async connections, elsewhere `upload` in a worker thread.

        Raises:
            SchemaError: keys breaking §5.1, or an unknown province; nothing is consumed.
            UnauthorizedOtp: unknown, expired or used OTP; nothing is stored.
        """
        statements = self._repository.async_ingestion
        if statements is None:
            await asyncio.to_thread(self.upload, token, request)
            return
        now = self._clock.now()
        grant = await statements.consume_otp_and_store(
            token_hash=token, upload=self._validated(request, now), now=now
        )
        if grant is None:
            raise UnauthorizedOtp()

    def _validated(self, request: UploadRequest, now: datetime) -> StoredUpload:
        try:
            validate_tek_list(
                request.teks,
                now_interval=interval_number_at(now),
                max_keys=self._settings.max_keys_per_upload,
            )
        except MalformedWireMessage as exc:
            raise SchemaError(str(exc)) from exc
        return StoredUpload(
            keys=tuple(
                (t.key_data, t.rolling_start_number, t.rolling_period) for t in request.teks
            ),
            province=request.province,
            exposure_detection_summaries=[
                s.model_dump(mode="json") for s in request.exposure_detection_summaries
            ],
        )

    def dummy_check_otp(self) -> None:
        """A dummy check-otp: 401 with the configured probability (1 %), else success.

        Raises:
            UnauthorizedOtp: with probability ``dummy_check_otp_error_rate``.
        """
        if self._rng.random() < self._settings.dummy_check_otp_error_rate:
            raise UnauthorizedOtp()
