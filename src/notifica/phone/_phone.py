"""`Phone`: one phone's Immuni app and Exposure Notification service, driven by events.

Rules:

1. The phone asks its `Clock` and never sleeps. `tick()` runs whatever is due (the `JOBS` of
   the current status in `_state`): new key at UTC midnight and the 14-day purge, detection
   every ``exposure_detection_period``, risk reminders, alert expiry, dummy traffic. When
   nothing is due it returns after one comparison, so a simulator can tick thousands of
   phones cheaply. ``dummy_traffic=False`` turns the dummy ingestion requests off (a
   simulation measuring the system without them; a real app always sends them).
2. Every method is named for the event that drives it (`onboard`, `on_advertisement`,
   `record_sightings`, `report_positive`, `verify_otp`, `upload_keys`, `acknowledge_alert`).
3. State changes are made on a copy and saved in one store transaction; only then does the
   phone adopt the copy, so an error or a kill leaves the last saved state.
4. The network is an ``httpx.AsyncClient`` given by the caller (production transport,
   ``ASGITransport`` in tests and simulations, ``MockTransport`` in unit tests).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime

import httpx
import numpy.typing as npt

from notifica.clock import Clock
from notifica.phone import _ingestion
from notifica.phone._advertising import (
    KEEP_DAYS,
    DayIdentifiers,
    current_key,
    day_identifiers,
    keep_recent_keys,
    tek_from_record,
)
from notifica.phone._analytics import (
    AttestationProvider,
)
from notifica.phone._detect_run import DetectionContext, detect_once
from notifica.phone._detection import DetectionCache
from notifica.phone._http import Endpoints, ImmuniHttp
from notifica.phone._jobs import expire_alert, next_due, remind
from notifica.phone._model import CovidStatus, Permissions, PhoneState
from notifica.phone._reporting import (
    otp_retry_after_s,
)
from notifica.phone._settings import AppSettings
from notifica.phone._sightings import SightingColumns, calibrate_rssi
from notifica.phone._state import JOBS, Event, Job, next_upload_step
from notifica.phone._status import (
    DetectionReport,
    PhoneStatus,
    TickReport,
    build_status,
)
from notifica.phone._store import PhoneStore
from notifica.phone._traffic import (
    DummyAction,
    cancel_dummy_sequence,
    next_dummy_action,
)
from notifica.phone.calibration import DeviceCalibration
from notifica.phone.errors import (
    OnboardingError,
    PhoneStateError,
    UnauthorizedOtp,
)
from notifica.protocol import (
    BluetoothMetadata,
    MalformedAdvertisement,
    RiskRule,
    TemporaryExposureKey,
    build_advertisement,
    format_otp,
    generate_otp,
    interval_number,
    is_accepted_province_code,
    parse_advertisement,
)

__all__ = ["Phone"]

DAY_S = 86_400
MINIMUM_AGE = 14
"""Immuni asked users to confirm they are at least 14 (immuni-api.md §9.1)."""

_IDLE = TickReport()


def _dummy_schedule(state: PhoneState) -> tuple[float | None, float | None, float | None, int]:
    return (
        state.dummy_window_start_unix_s,
        state.dummy_window_end_unix_s,
        state.dummy_next_request_unix_s,
        state.dummy_requests_in_sequence,
    )


class Phone:
    """One phone; see the module docstring for its rules and `notifica.phone` for the API."""

    __slots__ = (
        "_attestation",
        "_cache",
        "_clock",
        "_context",
        "_device",
        "_dummy_on",
        "_http",
        "_metadata",
        "_next_due",
        "_previous_scan_unix_s",
        "_rng",
        "_scan_unix_s",
        "_settings",
        "_state",
        "_store",
        "_today",
    )

    def __init__(
        self,
        *,
        clock: Clock,
        store: PhoneStore,
        device: DeviceCalibration,
        http: httpx.AsyncClient,
        endpoints: Endpoints,
        public_keys: Mapping[tuple[str, str], bytes],
        rng: random.Random | None = None,
        risk_rule: RiskRule | None = None,
        detection_cache: DetectionCache | None = None,
        attestation: AttestationProvider | None = None,
        platform: str = "android",
        build: int = 1,
        dummy_traffic: bool = True,
    ) -> None:
        self._clock = clock
        self._dummy_on = dummy_traffic
        self._store = store
        self._device = device
        self._rng = rng if rng is not None else random.SystemRandom()
        self._http = ImmuniHttp(http, endpoints, self._rng.randbytes)
        self._cache = detection_cache if detection_cache is not None else DetectionCache()
        self._context = DetectionContext(
            http=self._http,
            store=store,
            cache=self._cache,
            public_keys=dict(public_keys),
            rule=risk_rule,
            platform=platform,
            build=build,
        )
        self._attestation = attestation
        self._settings = AppSettings()
        self._metadata = BluetoothMetadata(
            tx_power_dbm=device.tx_power_dbm,
            calibration_confidence=int(device.calibration_confidence),
        )
        self._state = store.load_state() or PhoneState()
        self._scan_unix_s = 0
        self._previous_scan_unix_s = 0
        self._next_due = -math.inf
        self._today: DayIdentifiers | None = None

    # -- persistence --------------------------------------------------------------------------

    def _commit(self, state: PhoneState) -> None:
        with self._store.transaction():
            self._store.save_state(state)
        self._state = state
        self._next_due = -math.inf

    def _now(self) -> tuple[datetime, float]:
        now = self._clock.now()
        return now, now.timestamp()

    # -- onboarding (immuni-api.md §9.1) ------------------------------------------------------

    def onboard(self, *, age_confirmed: bool, province: str, permissions: Permissions) -> None:
        """Complete onboarding: age ≥ 14 confirmed, a province code, the permissions given.

        Raises:
            OnboardingError: without the age confirmation, or for an unknown province.
        """
        if not age_confirmed:
            raise OnboardingError(f"the user must confirm being at least {MINIMUM_AGE}")
        code = province.strip().upper() if isinstance(province, str) else province
        if not isinstance(code, str) or not is_accepted_province_code(code):
            raise OnboardingError(
                f"province {province!r} is not an Italian province code (two letters, e.g. RM)"
            )
        state = self._state.copy()
        state.onboarded, state.province, state.permissions = True, code, permissions
        self._commit(state)

    def set_permissions(self, permissions: Permissions) -> None:
        """The user changed a permission or switched Bluetooth."""
        state = self._state.copy()
        state.permissions = permissions
        self._commit(state)

    def _inactive_reasons(self) -> tuple[str, ...]:
        state = self._state
        reasons = []
        if not state.onboarded:
            reasons.append("onboarding not completed")
        if not state.permissions.exposure_notifications:
            reasons.append("exposure notifications are not allowed")
        if not state.permissions.bluetooth:
            reasons.append("Bluetooth is off")
        return tuple(reasons)

    @property
    def service_active(self) -> bool:
        """Whether the phone advertises, scans and detects (onboarded, EN allowed, BT on)."""
        return not self._inactive_reasons()

    # -- keys and advertising -----------------------------------------------------------------

    def _ensure_key(self, interval: int) -> DayIdentifiers:
        if self._today is not None and 0 <= interval - self._today.start_interval < len(
            self._today
        ):
            return self._today
        state = self._state.copy()
        tek, new = current_key(state.teks, interval, self._rng.randbytes)
        if new:
            state.teks = keep_recent_keys(state.teks, interval)
            self._commit(state)
        self._today = day_identifiers(tek, self._metadata)
        return self._today

    def current_identifiers(self) -> tuple[bytes, bytes]:
        """The (RPI, AEM) broadcast now.

        Raises:
            PhoneStateError: if the service is not active (nothing is broadcast).
        """
        if not self.service_active:
            raise PhoneStateError(
                "the service is not active: " + "; ".join(self._inactive_reasons())
            )
        interval = interval_number(self._clock.now().timestamp())
        return self._ensure_key(interval).at(interval)

    def current_advertisement(self) -> bytes:
        """The 31-byte Bluetooth payload broadcast now (protocol.md §8.1)."""
        return build_advertisement(*self.current_identifiers())

    def temporary_exposure_keys(self) -> tuple[TemporaryExposureKey, ...]:
        """The keys of the last 14 days, oldest first (what an upload would release)."""
        return tuple(tek_from_record(r) for r in sorted(self._state.teks, key=lambda r: r[1]))

    def day_identifiers(self) -> DayIdentifiers:
        """All (RPI, AEM) pairs of today's key in one call (for simulators)."""
        self.current_identifiers()
        assert self._today is not None
        return self._today

    # -- scanning (protocol.md §8.3, §9) ------------------------------------------------------

    def on_advertisement(self, payload: bytes, rssi_dbm: int) -> bool:
        """One packet heard in its own scan; malformed ones are ignored and counted."""
        return self.record_scan([(payload, rssi_dbm)]) == 1

    def record_scan(self, packets: Sequence[tuple[bytes, int]]) -> int:
        """The packets of one scan (payload, raw RSSI); returns how many were recorded."""
        rpis, aems, rssi = [], [], []
        malformed = 0
        for payload, rssi_dbm in packets:
            try:
                advertisement = parse_advertisement(payload)
            except MalformedAdvertisement:
                malformed += 1
                continue
            if len(advertisement.aem) != 4:
                malformed += 1
                continue
            rpis.append(advertisement.rpi)
            aems.append(advertisement.aem)
            rssi.append(rssi_dbm)
        if malformed:
            self._state.malformed_advertisements += malformed
        return self.record_sightings(rpis=b"".join(rpis), aems=b"".join(aems), rssi_dbm=rssi)

    def record_sightings(self, *, rpis: bytes, aems: bytes, rssi_dbm: npt.ArrayLike) -> int:
        """Identifiers heard in one scan now, in bulk (raw RSSI; the device's correction is
        applied here). Returns how many were recorded (0 while the service is inactive)."""
        if not self.service_active or not rpis:
            return 0
        now = int(self._clock.now().timestamp())
        if now != self._scan_unix_s:  # a new scan: the last one becomes "previous"
            self._previous_scan_unix_s, self._scan_unix_s = self._scan_unix_s, now
        block = SightingColumns.build(
            rpis=rpis,
            aems=aems,
            rssi_dbm=calibrate_rssi(rssi_dbm, self._device.rssi_correction_db),
            unix_s=now,
            previous_scan_unix_s=self._previous_scan_unix_s,
        )
        self._store.add_sightings(block)
        self._state.sightings_recorded += len(block)
        return len(block)

    # -- detection (immuni-api.md §9.2–§9.3) --------------------------------------------------

    async def detect(self) -> DetectionReport:
        """Run an exposure detection now (as `tick()` does when one is due)."""
        if not self._state.onboarded:
            raise PhoneStateError("onboarding is not completed")
        now, now_s = self._now()
        state = self._state.copy()
        report, settings = await detect_once(self._context, state, now)
        if settings is not None:
            self._settings = settings
        if report.notified or (
            state.status is CovidStatus.RISK and state.next_reminder_unix_s is None
        ):
            state.next_reminder_unix_s = now_s + self._settings.risk_reminder_notification_period
        if report.ok or report.batches_processed:
            await _ingestion.send_analytics(
                state,
                now,
                self._settings,
                self._rng,
                self._http,
                self._attestation,
                risky=report.notified,
            )
        self._commit(state)
        return report

    def acknowledge_alert(self) -> None:
        """The user opened the app and saw the alert: reminders stop."""
        state = self._state.copy()
        state.alert_acknowledged = True
        state.next_reminder_unix_s = None
        self._commit(state)

    # -- the clock ----------------------------------------------------------------------------

    async def tick(self) -> TickReport:
        """Run every job that is due now (rule 1); cheap when nothing is."""
        now, now_s = self._now()
        if now_s < self._next_due:
            return _IDLE
        state = self._state
        if not state.onboarded:
            self._next_due = math.inf  # nothing happens before onboarding
            return _IDLE
        jobs = JOBS[state.status]
        new_key = reminded = expired = False
        purged = dummies = 0
        detection: DetectionReport | None = None
        if Job.ROLL_KEYS in jobs and self.service_active:
            before = len(self._state.teks)
            self._ensure_key(interval_number(now_s))
            new_key = len(self._state.teks) != before
        if Job.PURGE in jobs:
            purged = self._purge(now_s)
        if Job.EXPIRE_ALERT in jobs:
            expired = self._expire_alert(now)
        if Job.REMIND in jobs and not expired:
            reminded = self._remind(now_s)
        if Job.DETECT in jobs and self._detection_due(now_s):
            detection = await self.detect()
        if Job.DUMMY_TRAFFIC in jobs and self._dummy_on:
            dummies = await self._dummy_traffic(now_s)
        self._next_due = next_due(self._state, now_s)
        if not (new_key or purged or reminded or expired or dummies or detection):
            return _IDLE
        return TickReport(
            new_key=new_key,
            purged_sightings=purged,
            detection=detection,
            reminded=reminded,
            alert_expired=expired,
            dummy_requests=dummies,
        )

    def _detection_due(self, now_s: float) -> bool:
        if not self._state.permissions.exposure_notifications:
            return False
        due = self._state.next_detection_unix_s
        return due is None or now_s >= due

    def _purge(self, now_s: float) -> int:
        horizon = int(now_s) - KEEP_DAYS * DAY_S
        removed = self._store.purge_before(horizon)
        state = self._state
        kept = keep_recent_keys(state.teks, interval_number(now_s))
        if len(kept) != len(state.teks):
            copy = state.copy()
            copy.teks = kept
            self._commit(copy)
        return removed

    def _expire_alert(self, now: datetime) -> bool:
        state = self._state.copy()
        if not expire_alert(state, now):
            return False
        self._commit(state)
        return True

    def _remind(self, now_s: float) -> bool:
        state = self._state.copy()
        if not remind(state, now_s, self._settings):
            return False
        self._commit(state)
        return True

    async def _dummy_traffic(self, now_s: float) -> int:
        state = self._state.copy()
        before = _dummy_schedule(state)
        action = next_dummy_action(state, now_s, self._settings, self._rng)
        if action is not DummyAction.NOTHING:
            await _ingestion.send_dummy(self._http, action, state, now_s, self._settings, self._rng)
        if action is not DummyAction.NOTHING or _dummy_schedule(state) != before:
            self._commit(state)
        return int(action is not DummyAction.NOTHING)

    # -- reporting positive (immuni-api.md §4.3) ----------------------------------------------

    def report_positive(self) -> str:
        """Start a positive report: a fresh OTP, shown in 3-4-3 groups ("ABC-DEFG-HIJ").

        Opening the flow cancels a running dummy sequence (immuni-api.md §4.3 step 1).
        """
        if not self._state.onboarded:
            raise PhoneStateError("onboarding is not completed")
        state = self._state.copy()
        state.upload_step = next_upload_step(state.upload_step, Event.OTP_REQUESTED)
        state.otp = generate_otp(self._rng.randbytes)
        cancel_dummy_sequence(state)
        self._commit(state)
        return format_otp(state.otp)

    def cancel_report(self) -> None:
        """The user left the upload screen."""
        state = self._state.copy()
        state.upload_step = next_upload_step(state.upload_step, Event.UPLOAD_CANCELLED)
        state.otp = None
        self._commit(state)

    def otp_retry_after_s(self) -> float:
        """Seconds before `verify_otp` may call the server again (Immuni's back-off)."""
        return otp_retry_after_s(self._state.otp_failures_unix_s, self._clock.now().timestamp())

    async def verify_otp(self) -> None:
        """Ask the server whether the operator has authorised the shown OTP (check-otp).

        Raises:
            PhoneStateError: if no OTP is shown.
            OtpBackoff: if called before the back-off after failed checks has passed.
            UnauthorizedOtp: if the server does not know the OTP (counted for the back-off).
            ServerError: if the server cannot be reached or answers wrongly.
        """
        state = self._state.copy()
        try:
            await _ingestion.verify_otp(state, self._http, self._clock.now(), self._settings)
        except UnauthorizedOtp:
            self._commit(state)
            raise
        self._commit(state)

    async def upload_keys(self) -> None:
        """Upload the last 14 days of TEKs and the trimmed summaries; the user is positive.

        Raises:
            PhoneStateError: if the OTP has not been verified.
            UnauthorizedOtp: if the OTP expired or was used meanwhile (a new one is needed).
            ServerError: if the server cannot be reached or answers wrongly.
        """
        now = self._clock.now()
        if self.service_active:  # today's key exists before it is uploaded
            self._ensure_key(interval_number(now.timestamp()))
        state = self._state.copy()
        try:
            await _ingestion.upload_keys(state, self._http, now, self._settings)
        except UnauthorizedOtp:
            self._commit(state)
            raise
        self._commit(state)

    # -- what the user sees -------------------------------------------------------------------

    @property
    def state(self) -> PhoneState:
        """The current persistent record (read-only by convention)."""
        return self._state

    @property
    def settings(self) -> AppSettings:
        """The settings of the last successful fetch (Immuni's defaults before)."""
        return self._settings

    def status(self) -> PhoneStatus:
        """What the user sees now (and `notifica phone status` prints)."""
        return build_status(
            self._state,
            inactive_reasons=self._inactive_reasons(),
            sightings_stored=self._store.sighting_count(),
            now_s=self._clock.now().timestamp(),
        )

    def close(self) -> None:
        """Save counters and close the store (the HTTP client belongs to the caller)."""
        self._commit(self._state.copy())
        self._store.close()
