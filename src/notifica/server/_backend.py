"""`Backend`: every service of one deployment, built from `Settings` and the injected seams.

The FastAPI app (`create_app`) is a thin layer over one `Backend`; the portal and the
simulator use the same object in process (``app.state.backend`` or one they build and pass to
`create_app`). Nothing here is global: two backends with different settings live side by side.
"""

from __future__ import annotations

import random
import threading
from datetime import date

from notifica.clock import Clock, SystemClock
from notifica.protocol import ExportSigner
from notifica.server.attestation import AttestationVerifier, JwsAttestationVerifier, load_roots
from notifica.server.devicecheck import DeviceCheck
from notifica.server.jobs import PublishReport, RetentionReport, ServerJobs, retention
from notifica.server.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from notifica.server.repository import DailyCounts, ProvinceNotifications, Repository
from notifica.server.services import (
    AdminService,
    AnalyticsService,
    AppConfigService,
    HisAuthenticator,
    IngestionService,
    KeysService,
    OtpService,
)
from notifica.server.settings import Settings
from notifica.server.signing import load_signer
from notifica.server.timing import AsyncioSleeper, ReleaseSchedule, Sleeper

__all__ = ["Backend"]


class Backend:
    """The services, repository, limits and jobs of one deployment.

    Args:
        settings: the deployment's settings.
        clock: the time source of every rule (a `SimClock` in the simulator).
        repository: storage; by default opened on ``settings.effective_database_url``
            (the schema must be migrated: `Backend.upgrade` or ``notifica db upgrade``).
        signer: the export signer; by default loaded (or, embedded, generated) on first use.
        sleeper: how responses are held back (the simulator passes `NoSleep`).
        rng: randomness of delays, dummy answers and device-check waits (seed it in tests).
        rate_limiter: by default in memory, or Redis when ``settings.redis_url`` is set.
        device_check: the iOS device-check service; without it tokens are never authorised.
        attestation: the Android attestation verifier; by default built from the
            ``attestation_*`` settings, or none (reports dropped) without roots.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        repository: Repository | None = None,
        signer: ExportSigner | None = None,
        sleeper: Sleeper | None = None,
        rng: random.Random | None = None,
        rate_limiter: RateLimiter | None = None,
        device_check: DeviceCheck | None = None,
        attestation: AttestationVerifier | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.repository = repository or Repository.open(
            settings.effective_database_url, pool_size=settings.database_pool_size
        )
        self.rng = rng or random.SystemRandom()
        self.sleeper = sleeper or AsyncioSleeper()
        self._signer = signer
        self._signer_lock = threading.Lock()
        if rate_limiter is None:
            rate_limiter = (
                RedisRateLimiter(settings.redis_url, self.clock)
                if settings.redis_url
                else MemoryRateLimiter(self.clock)
            )
        self.rate_limiter = rate_limiter
        if attestation is None and settings.attestation_roots is not None:
            attestation = JwsAttestationVerifier(
                roots=load_roots(settings.attestation_roots),
                hostname=settings.attestation_hostname,
                package_name=settings.attestation_package,
                apk_digests=settings.attestation_apk_digests,
                max_skew_s=settings.attestation_max_skew_s,
            )
        self.release = ReleaseSchedule(
            mean_ms=settings.ingestion_delay_mean_ms,
            sigma_ms=settings.ingestion_delay_sigma_ms,
            clock=self.clock,
            sleeper=self.sleeper,
            rng=self.rng,
        )
        repo, clk = self.repository, self.clock
        self.app_config = AppConfigService(repo, clk, settings)
        self.otp = OtpService(repo, clk, settings)
        self.his = HisAuthenticator(repo, clk, settings)
        self.ingestion = IngestionService(repo, clk, settings, self.rng)
        self.keys = KeysService(repo, clk, settings)
        self.analytics = AnalyticsService(
            repo,
            clk,
            settings,
            attestation=attestation,
            device_check=device_check,
            sleeper=self.sleeper,
            rng=self.rng,
        )
        self.admin = AdminService(repo, clk)
        self.jobs = ServerJobs(repo, self.signer, clk, settings)

    def signer(self) -> ExportSigner:
        """The export signer (loaded or generated on first use).

        Raises:
            SigningKeyMissing: if no key is configured and generating one is off.
        """
        with self._signer_lock:
            if self._signer is None:
                self._signer = load_signer(self.settings)
            return self._signer

    def upgrade(self) -> str:
        """Create or upgrade the database schema; return its revision."""
        return self.repository.upgrade()

    # --- in-process API for the portal and the simulator ------------------------------------

    def authorise_otp(self, otp: str, symptoms_started_on: date) -> None:
        """Authorise an OTP as ``POST /v1/otp`` does (the portal's operator form).

        Raises:
            SchemaError: invalid code, or onset in the future or more than 180 days ago.
            OtpAlreadyAuthorized: the OTP is already authorised and alive.
        """
        self.otp.authorise_code(otp, symptoms_started_on)

    def daily_counts(self, *, days: int = 14) -> list[DailyCounts]:
        """OTPs authorised, uploads received, batches and keys published, per day."""
        return self.admin.daily_counts(days=days)

    def notifications_by_province(self, *, days: int = 30) -> list[ProvinceNotifications]:
        """Operational-info reports and notifications per day and province."""
        return self.admin.notifications_by_province(days=days)

    def publish(self) -> PublishReport:
        """Publish pending keys now."""
        return self.jobs.publish_now()

    def retention(self) -> RetentionReport:
        """Delete data past its retention now."""
        return retention(self.repository, self.clock, self.settings)

    async def aclose(self) -> None:
        """Finish background work and release connections."""
        await self.analytics.drain()
        await self.rate_limiter.close()
        self.repository.close()
