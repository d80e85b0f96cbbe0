"""The ingestion side of the phone: the positive report's requests, dummy requests, analytics.

Each function works on a *copy* of the state that the caller commits afterwards (see
`_phone`). Real and dummy ingestion requests go through the same `ImmuniHttp` calls with the
same ``teks_packet_size``, so they have the same size on the wire (immuni-api.md §6.1).
"""

from __future__ import annotations

import base64
import math
import random
from datetime import datetime, timedelta

from notifica.phone._advertising import KEEP_DAYS
from notifica.phone._analytics import AttestationProvider, genuine_analytics_due, new_salt
from notifica.phone._http import ImmuniHttp
from notifica.phone._model import CovidStatus, PhoneState, UploadStep
from notifica.phone._reporting import (
    otp_retry_after_s,
    recent_failures,
    teks_for_upload,
    trim_summaries,
    upload_fields,
)
from notifica.phone._settings import AppSettings
from notifica.phone._state import Event, next_status, next_upload_step
from notifica.phone._traffic import DummyAction, dummy_analytics_due
from notifica.phone.errors import (
    OtpBackoff,
    PhoneError,
    PhoneStateError,
    UnauthorizedOtp,
)
from notifica.protocol import (
    ACCEPTED_PROVINCE_CODES,
    GoogleOperationalInfoRequest,
    OperationalInfoFields,
    generate_otp,
    operational_info_nonce,
    otp_bearer_token,
)

__all__ = ["send_analytics", "send_dummy", "upload_keys", "verify_otp"]

_PROVINCES = tuple(sorted(ACCEPTED_PROVINCE_CODES))
"""Dummy operational info names a real province code, so that it passes the schema."""


async def verify_otp(
    state: PhoneState, http: ImmuniHttp, now: datetime, settings: AppSettings
) -> None:
    """check-otp with Immuni's back-off; see `Phone.verify_otp`."""
    next_upload_step(state.upload_step, Event.OTP_ACCEPTED)  # refuses without an OTP
    if state.upload_step is not UploadStep.OTP_SHOWN or state.otp is None:
        raise PhoneStateError("no OTP is waiting for verification")
    now_s = now.timestamp()
    wait = otp_retry_after_s(state.otp_failures_unix_s, now_s)
    if wait > 0:
        raise OtpBackoff(f"try again in {math.ceil(wait)} s", retry_after_s=wait)
    try:
        await http.check_otp(
            token=otp_bearer_token(state.otp),
            dummy=False,
            client_clock=int(now_s),
            packet_size=settings.teks_packet_size,
        )
    except UnauthorizedOtp:
        state.otp_failures_unix_s = [*recent_failures(state.otp_failures_unix_s, now_s), now_s]
        state.upload_step = next_upload_step(state.upload_step, Event.OTP_REJECTED)
        raise
    state.upload_step = next_upload_step(state.upload_step, Event.OTP_ACCEPTED)


async def upload_keys(
    state: PhoneState, http: ImmuniHttp, now: datetime, settings: AppSettings
) -> None:
    """The upload and its effect on the state; see `Phone.upload_keys`."""
    next_upload_step(state.upload_step, Event.UPLOAD_COMPLETED)  # refuses unless verified
    if state.otp is None or state.province is None:
        raise PhoneStateError("no verified OTP")
    now_s = now.timestamp()
    fields = upload_fields(
        teks=teks_for_upload(state.teks),
        province=state.province,
        summaries=trim_summaries(
            state.summaries,
            today=now.date(),
            max_summaries=settings.teks_max_summary_count,
            max_infos=settings.teks_max_info_count,
        ),
    )
    try:
        await http.upload(
            token=otp_bearer_token(state.otp),
            fields=fields,
            dummy=False,
            client_clock=int(now_s),
            packet_size=settings.teks_packet_size,
        )
    except UnauthorizedOtp:
        state.upload_step = next_upload_step(state.upload_step, Event.OTP_REJECTED)
        raise
    state.upload_step = next_upload_step(state.upload_step, Event.UPLOAD_COMPLETED)
    state.status = next_status(state.status, Event.UPLOAD_COMPLETED)
    state.otp, state.positive_since_unix_s = None, now_s
    state.last_contact_date, state.alert_acknowledged, state.next_reminder_unix_s = (
        None,
        True,
        None,
    )


async def send_dummy(
    http: ImmuniHttp,
    action: DummyAction,
    state: PhoneState,
    now_s: float,
    settings: AppSettings,
    rng: random.Random,
) -> None:
    """A dummy ingestion request, the same size as a real one (immuni-api.md §6.2): a fresh
    random OTP's hash as bearer (iOS), ``Immuni-Dummy-Data: 1``; the answer is ignored."""
    token = otp_bearer_token(generate_otp(rng.randbytes))
    try:
        if action is DummyAction.CHECK_OTP:
            await http.check_otp(
                token=token,
                dummy=True,
                client_clock=int(now_s),
                packet_size=settings.teks_packet_size,
            )
        elif action is DummyAction.UPLOAD:
            fields = upload_fields(teks=[], province=state.province or "EX", summaries=[])
            await http.upload(
                token=token,
                fields=fields,
                dummy=True,
                client_clock=int(now_s),
                packet_size=settings.teks_packet_size,
            )
    except PhoneError:
        pass  # a dummy's answer does not matter (1 % are 401 by design)


async def send_analytics(
    state: PhoneState,
    now: datetime,
    settings: AppSettings,
    rng: random.Random,
    http: ImmuniHttp,
    attestation: AttestationProvider | None,
    *,
    risky: bool,
) -> str | None:
    """After a detection: at most one operational info, genuine before dummy (§6.3, §7.2).

    Returns "with-exposure", "without-exposure", "dummy" or None.
    """
    if attestation is None or state.province is None:
        return None
    kind = genuine_analytics_due(state, now, settings, rng, risky_exposure=risky)
    dummy = dummy_analytics_due(
        state, now.timestamp(), settings, rng, genuine_sent=kind is not None
    )
    if kind is None and not dummy:
        return None
    info = operational_info(state, now) if kind is not None else dummy_info(now, rng)
    salt = new_salt(rng.randbytes(16))
    try:
        nonce = base64.b64decode(operational_info_nonce(info, salt))
        signed = attestation.attest(nonce, now=now)
        body = GoogleOperationalInfoRequest(
            **info.model_dump(exclude={"build"}), salt=salt, signed_attestation=signed
        ).model_dump(mode="json", exclude={"build"})
        await http.post_operational_info(body=body, dummy=kind is None)
    except PhoneError:
        return None
    return kind or "dummy"


def operational_info(state: PhoneState, now: datetime) -> OperationalInfoFields:
    """The genuine fields; ``last_risky_exposure_on`` is today when not exposed (iOS, §6.1)."""
    permissions = state.permissions
    at_risk = state.status is CovidStatus.RISK and state.last_contact_date is not None
    return OperationalInfoFields(
        province=state.province or "EX",
        exposure_permission=int(permissions.exposure_notifications),
        bluetooth_active=int(permissions.bluetooth),
        notification_permission=int(permissions.notifications),
        exposure_notification=int(at_risk),
        last_risky_exposure_on=(
            state.last_contact_date if at_risk and state.last_contact_date else now.date()
        ),
    )


def dummy_info(now: datetime, rng: random.Random) -> OperationalInfoFields:
    """Random plausible fields (iOS's dummy analytics, immuni-api.md §6.3)."""
    return OperationalInfoFields(
        province=rng.choice(_PROVINCES),
        exposure_permission=rng.randint(0, 1),
        bluetooth_active=rng.randint(0, 1),
        notification_permission=rng.randint(0, 1),
        exposure_notification=rng.randint(0, 1),
        last_risky_exposure_on=now.date() - timedelta(days=rng.randint(0, KEEP_DAYS)),
    )
