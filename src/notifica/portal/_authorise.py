"""Authorising a code from the operator's form, through the backend's own code path.

`Backend.authorise_otp` is what ``POST /v1/otp`` runs (immuni-api.md §3.2): the same OTP
rules, onset window, 150-second life and "already authorised" answer. Before calling it the
portal writes a *pending* audit line, and settles it with the outcome afterwards, so a code
authorised while the process died still leaves a trace. The onset date is not written to
the audit log: it is health data about a citizen, and the log's purpose — who authorised
which code, when — does not need it (GDPR art. 5(1)(c), data minimisation); the backend
keeps it only as long as the OTP and the keys it dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from notifica.clock import Clock
from notifica.portal._codes import (
    ONSET_WARNING_DAYS,
    code_error,
    code_fingerprint,
    diagnose_code,
    is_old_onset,
    parse_onset,
)
from notifica.portal._records import AuditAction, AuditEntry, Operator
from notifica.portal._store import PortalStore
from notifica.portal.errors import AlreadyAuthorised, FormInvalid, InvalidField
from notifica.server import Backend, OtpAlreadyAuthorized, SchemaError

__all__ = ["Authorisation", "CheckedCode", "CodeDesk"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedCode:
    """A code and onset date that passed the portal's checks."""

    code: str
    onset: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorisation:
    """A code this operator authorised, for the confirmation page."""

    entry: AuditEntry
    expires_at: datetime
    remaining_s: int


class CodeDesk:
    """Checks the operator's form and authorises the code."""

    def __init__(self, backend: Backend, store: PortalStore, clock: Clock) -> None:
        self._backend = backend
        self._store = store
        self._clock = clock

    @property
    def ttl_s(self) -> int:
        """How long an authorised code lives (the backend's ``otp_ttl_s``, 150 s)."""
        return self._backend.settings.otp_ttl_s

    def today(self) -> date:
        """The date the onset window is measured from: the backend clock's UTC date."""
        return self._clock.now().date()

    def check(self, *, code: str, onset: str, confirm_old: bool) -> CheckedCode:
        """Validate the form; every problem is reported at once.

        Raises:
            FormInvalid: with one `InvalidField` per field at fault (``code``, ``onset``,
                or ``confirm_old`` when an onset past 14 days was not confirmed).
        """
        errors: list[InvalidField] = []
        diagnosis = diagnose_code(code)
        if (error := code_error(diagnosis)) is not None:
            errors.append(error)
        parsed: date | None = None
        try:
            parsed = parse_onset(onset, today=self.today())
        except InvalidField as exc:
            errors.append(exc)
        if parsed is not None and is_old_onset(parsed, today=self.today()) and not confirm_old:
            errors.append(InvalidField("confirm_old", "onset.confirm_old", days=ONSET_WARNING_DAYS))
        if errors:
            raise FormInvalid(tuple(errors))
        assert parsed is not None
        return CheckedCode(code=diagnosis.code, onset=parsed)

    def authorise(self, operator: Operator, checked: CheckedCode) -> AuditEntry:
        """Authorise the code for its life, as ``POST /v1/otp`` would.

        Raises:
            AlreadyAuthorised: the code is already authorised and alive.
            InvalidField: the backend refused what the portal accepted (e.g. the UTC date
                turned while the form was open).
            notifica.server.DatabaseError: the backend's database failed (the audit line
                stays pending: the outcome is unknown).
        """
        entry = self._store.audit.add(
            at=self._clock.now(),
            actor=operator.email,
            action=AuditAction.CODE_PENDING,
            code_fingerprint=code_fingerprint(checked.code),
        )
        try:
            self._backend.authorise_otp(checked.code, checked.onset)
        except OtpAlreadyAuthorized:
            self._store.audit.settle(entry.id, AuditAction.CODE_ALREADY_AUTHORISED)
            raise AlreadyAuthorised() from None
        except SchemaError:
            self._store.audit.settle(entry.id, AuditAction.CODE_REFUSED)
            raise InvalidField("onset", "authorise.refused") from None
        self._store.audit.settle(entry.id, AuditAction.CODE_AUTHORISED)
        return entry

    def confirmation(self, operator: Operator, entry_id: int) -> Authorisation | None:
        """The operator's own authorised code by audit line, with its time left."""
        entry = self._store.audit.get(entry_id)
        if (
            entry is None
            or entry.actor != operator.email
            or entry.action is not AuditAction.CODE_AUTHORISED
        ):
            return None
        expires_at = entry.at + timedelta(seconds=self.ttl_s)
        remaining = (expires_at - self._clock.now()).total_seconds()
        return Authorisation(
            entry=entry, expires_at=expires_at, remaining_s=max(0, min(self.ttl_s, int(remaining)))
        )
