"""The national backend: an Immuni-compatible HTTP API with publishing and retention (layer 3).

Public API (everything else is private to the package):

* `create_app(settings, *, clock=None, backend=None, services=None, **backend_options)`
  → FastAPI app; `Settings` (``NOTIFICA_*`` environment, optional TOML via `Settings.load`).
* `Backend`: the services of one deployment, shared in process by the portal and the
  simulator: `Backend.authorise_otp`, `daily_counts`, `notifications_by_province`,
  `publish`, `retention`, ``jobs.run_due()``, ``his.add_client``.
* Jobs as plain functions: `publish`, `retention` (and their reports), `ServerJobs`.
* `serving_app(settings, *, extensions=())`: what ``notifica serve`` runs; each
  `AppExtension` gets the app and its backend first (the portal mounts itself there).
* Seams with their implementations: `Sleeper` (`AsyncioSleeper`, `NoSleep`,
  `RecordingSleeper`), `RateLimiter` (`MemoryRateLimiter`, `RedisRateLimiter`),
  `DeviceCheck` (`InMemoryDeviceCheck`), `AttestationVerifier` (`JwsAttestationVerifier`).
* Errors: `ApiError` and its subclasses; `DatabaseError`, `DatabaseLocked`.
"""

from notifica.server._backend import Backend
from notifica.server._serve import AppExtension, serving_app
from notifica.server.app import create_app
from notifica.server.attestation import (
    AttestationVerifier,
    InvalidAttestation,
    JwsAttestationVerifier,
)
from notifica.server.devicecheck import DeviceCheck, InMemoryDeviceCheck, TwoBits
from notifica.server.errors import (
    ApiError,
    BatchNotFound,
    NoBatchesFound,
    OtpAlreadyAuthorized,
    RequestTooLarge,
    SchemaError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnauthorizedOtp,
    UnknownError,
)
from notifica.server.jobs import PublishReport, RetentionReport, ServerJobs, publish, retention
from notifica.server.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    client_address,
    forwarded_address,
)
from notifica.server.repository import (
    DailyCounts,
    DatabaseError,
    DatabaseLocked,
    HisClient,
    ProvinceNotifications,
    Repository,
)
from notifica.server.routers._http import INLINE_BLOCKING_CALLS
from notifica.server.settings import SERVICES, Settings
from notifica.server.signing import SigningKeyMissing, load_signer
from notifica.server.timing import AsyncioSleeper, NoSleep, RecordingSleeper, Sleeper

__all__ = [
    "INLINE_BLOCKING_CALLS",
    "SERVICES",
    "ApiError",
    "AppExtension",
    "AsyncioSleeper",
    "AttestationVerifier",
    "Backend",
    "BatchNotFound",
    "DailyCounts",
    "DatabaseError",
    "DatabaseLocked",
    "DeviceCheck",
    "HisClient",
    "InMemoryDeviceCheck",
    "InvalidAttestation",
    "JwsAttestationVerifier",
    "MemoryRateLimiter",
    "NoBatchesFound",
    "NoSleep",
    "OtpAlreadyAuthorized",
    "ProvinceNotifications",
    "PublishReport",
    "RateLimiter",
    "RecordingSleeper",
    "RedisRateLimiter",
    "Repository",
    "RequestTooLarge",
    "RetentionReport",
    "SchemaError",
    "ServerJobs",
    "ServiceUnavailable",
    "Settings",
    "SigningKeyMissing",
    "Sleeper",
    "TooManyRequests",
    "TwoBits",
    "Unauthenticated",
    "UnauthorizedOtp",
    "UnknownError",
    "client_address",
    "create_app",
    "forwarded_address",
    "load_signer",
    "publish",
    "retention",
    "serving_app",
]
