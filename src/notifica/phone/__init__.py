"""The phone engine: what the app and the Exposure Notification service do on a phone (layer 3).

One `Phone` per device, with an injected `Clock`, a `PhoneStore` (`SqliteStore`, encrypted, by
default; `MemoryStore`; or a simulator's own), a `DeviceCalibration`, an ``httpx.AsyncClient``
and the server's `Endpoints`. Drive it with events — `Phone.onboard`, `Phone.on_advertisement`
/ `Phone.record_scan` / `Phone.record_sightings`, `Phone.tick`, `Phone.detect`,
`Phone.report_positive` → `Phone.verify_otp` → `Phone.upload_keys`, `Phone.acknowledge_alert`
— and read `Phone.status()`. Errors are the `PhoneError` tree in `notifica.phone.errors`.
"""

from notifica.phone._advertising import KEEP_DAYS, DayIdentifiers, day_identifiers
from notifica.phone._analytics import AttestationProvider
from notifica.phone._attestation import (
    AttestationCa,
    TestCaAttestation,
    make_test_attestation_ca,
)
from notifica.phone._crypto import (
    KeyProvider,
    KeyringKeyProvider,
    RawKeyProvider,
    ScryptKeyProvider,
)
from notifica.phone._detection import DetectionCache, PreparedBatch
from notifica.phone._http import Endpoints, make_http_client, wire_size
from notifica.phone._model import CovidStatus, Permissions, PhoneState, UploadStep
from notifica.phone._phone import Phone
from notifica.phone._settings import AppSettings
from notifica.phone._sightings import SightingColumns, calibrate_rssi
from notifica.phone._sqlite_store import SqliteStore
from notifica.phone._state import JOBS, NOTIFIES, STATUS_TRANSITIONS, UPLOAD_TRANSITIONS, Event, Job
from notifica.phone._status import (
    REMINDER_TEXT,
    RISK_NOTIFICATION_TEXT,
    DetectionReport,
    PhoneStatus,
    TickReport,
)
from notifica.phone._store import MemoryStore, PhoneStore, StagedMemoryStore
from notifica.phone.calibration import (
    CalibrationConfidence,
    CalibrationDataError,
    CalibrationTable,
    DeviceCalibration,
)
from notifica.phone.errors import (
    BadServerResponse,
    OnboardingError,
    OtpBackoff,
    PhoneError,
    PhoneStateError,
    ServerError,
    ServerFailure,
    ServerTimeout,
    ServerUnreachable,
    StoreCorrupted,
    StoreError,
    UnauthorizedOtp,
    WrongStoreKey,
)

__all__ = [
    "JOBS",
    "KEEP_DAYS",
    "NOTIFIES",
    "REMINDER_TEXT",
    "RISK_NOTIFICATION_TEXT",
    "STATUS_TRANSITIONS",
    "UPLOAD_TRANSITIONS",
    "AppSettings",
    "AttestationCa",
    "AttestationProvider",
    "BadServerResponse",
    "CalibrationConfidence",
    "CalibrationDataError",
    "CalibrationTable",
    "CovidStatus",
    "DayIdentifiers",
    "DetectionCache",
    "DetectionReport",
    "DeviceCalibration",
    "Endpoints",
    "Event",
    "Job",
    "KeyProvider",
    "KeyringKeyProvider",
    "MemoryStore",
    "OnboardingError",
    "OtpBackoff",
    "Permissions",
    "Phone",
    "PhoneError",
    "PhoneState",
    "PhoneStateError",
    "PhoneStatus",
    "PhoneStore",
    "PreparedBatch",
    "RawKeyProvider",
    "ScryptKeyProvider",
    "ServerError",
    "ServerFailure",
    "ServerTimeout",
    "ServerUnreachable",
    "SightingColumns",
    "SqliteStore",
    "StagedMemoryStore",
    "StoreCorrupted",
    "StoreError",
    "TestCaAttestation",
    "TickReport",
    "UnauthorizedOtp",
    "UploadStep",
    "WrongStoreKey",
    "calibrate_rssi",
    "day_identifiers",
    "make_http_client",
    "make_test_attestation_ca",
    "wire_size",
]
