"""Operator accounts: creation, sign-in with back-off, passwords, roles, disabling.

Every change is written to the audit log with the acting operator's e-mail (``None`` when
it came from the command line). The rules of the back-off are in `notifica.portal._lockout`.
"""

from __future__ import annotations

import re
from datetime import datetime

from notifica.clock import Clock
from notifica.portal._lockout import ClientBackoff, pause_after
from notifica.portal._passwords import Passwords, check_password_rules, temporary_password
from notifica.portal._records import AuditAction, Operator, Role
from notifica.portal._store import PortalStore
from notifica.portal.errors import (
    AccountDisabled,
    InvalidField,
    LastAdmin,
    SignInPaused,
    SignInRefused,
    UnknownOperator,
)
from notifica.portal.settings import PortalSettings

__all__ = ["MAX_EMAIL_LENGTH", "Accounts", "normalise_email"]

MAX_EMAIL_LENGTH = 254
"""RFC 5321 §4.5.3.1.3: a path holds at most 256 octets with its angle brackets."""

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+")
"""Something, an at sign, a dotted domain: enough to catch typing slips, not a full RFC 5322."""


def normalise_email(text: str, *, field: str = "email") -> str:
    """The e-mail trimmed and lower-cased.

    Raises:
        InvalidField: if it is empty, too long or not shaped like an address.
    """
    email = text.strip().lower()
    if not email:
        raise InvalidField(field, "email.missing")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidField(field, "email.too_long", max=MAX_EMAIL_LENGTH)
    if not _EMAIL.fullmatch(email):
        raise InvalidField(field, "email.invalid")
    return email


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


class Accounts:
    """The account rules over the portal's store."""

    def __init__(
        self,
        store: PortalStore,
        clock: Clock,
        settings: PortalSettings,
        passwords: Passwords,
        clients: ClientBackoff,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._passwords = passwords
        self._clients = clients

    # --- reading ----------------------------------------------------------------------------

    def all(self) -> list[Operator]:
        """Every account, by e-mail."""
        return self._store.operators.all()

    def get(self, operator_id: int) -> Operator:
        """One account.

        Raises:
            UnknownOperator: if there is none with this id.
        """
        operator = self._store.operators.by_id(operator_id)
        if operator is None:
            raise UnknownOperator(email=str(operator_id))
        return operator

    def by_email(self, email: str) -> Operator:
        """One account by e-mail.

        Raises:
            UnknownOperator: if there is none.
        """
        operator = self._store.operators.by_email(email.strip().lower())
        if operator is None:
            raise UnknownOperator(email=email)
        return operator

    # --- signing in -------------------------------------------------------------------------

    def sign_in(self, *, email: str, password: str, client: str) -> Operator:
        """Check the credentials of a sign-in from `client` (its address, never stored).

        Raises:
            SignInPaused: the client or the account is paused after repeated failures (the
                password is not checked).
            SignInRefused: unknown e-mail or wrong password (one case).
            AccountDisabled: right password, disabled account.
        """
        now = self._clock.now()
        waiting = self._clients.paused_for(client)
        if waiting:
            raise SignInPaused(waiting)
        try:
            normalised: str | None = normalise_email(email)
        except InvalidField:
            normalised = None
        found = self._store.operators.credentials(normalised) if normalised else None
        if found is None:
            self._passwords.burn(password)
            self._clients.record_failure(client)
            raise SignInRefused()
        operator, stored = found
        if operator.locked_until is not None and operator.locked_until > now:
            raise SignInPaused(_seconds_until(operator.locked_until, now))
        if not self._passwords.verify(stored, password):
            self._record_failure(operator, client, now)
            raise SignInRefused()
        if not operator.active:
            raise AccountDisabled()
        new_hash = self._passwords.hash(password) if self._passwords.needs_rehash(stored) else None
        self._store.operators.record_sign_in(operator.id, now=now, new_hash=new_hash)
        self._audit(AuditAction.SIGNED_IN, actor=operator.email)
        return self.get(operator.id)

    def _record_failure(self, operator: Operator, client: str, now: datetime) -> None:
        self._clients.record_failure(client)
        s = self._settings
        pause = pause_after(
            operator.failed_sign_ins + 1,
            free=s.account_free_failures,
            base_s=s.lock_base_s,
            max_s=s.lock_max_s,
        )
        self._store.operators.record_failure(operator.id, lock_for_s=pause, now=now)
        self._audit(AuditAction.SIGN_IN_FAILED, actor=None, subject=operator.email)
        if pause is not None:
            self._audit(AuditAction.SIGN_IN_PAUSED, actor=None, subject=operator.email)

    def signed_out(self, operator: Operator) -> None:
        """Note a sign-out in the audit log."""
        self._audit(AuditAction.SIGNED_OUT, actor=operator.email)

    # --- managing ---------------------------------------------------------------------------

    def create(
        self, *, email: str, role: Role, password: str | None, actor: Operator | None
    ) -> tuple[Operator, str | None]:
        """Create an account; without `password`, a temporary one to change at first sign-in.

        Returns:
            The account and the temporary password (None when `password` was given).

        Raises:
            InvalidField: for a malformed e-mail or a password that breaks the rules.
            OperatorExists: if the e-mail is taken.
        """
        email = normalise_email(email)
        temporary = None
        if password is None:
            password = temporary = temporary_password()
        else:
            self._check_rules(password, email=email, field="password")
        operator = self._store.operators.add(
            email=email,
            role=role,
            password_hash=self._passwords.hash(password),
            must_change=temporary is not None,
            now=self._clock.now(),
        )
        self._audit(AuditAction.OPERATOR_CREATED, actor=actor, subject=email)
        return operator, temporary

    def change_password(
        self, operator: Operator, *, current: str, new: str, confirmation: str
    ) -> None:
        """The operator's own change (also the forced one after a reset).

        Raises:
            InvalidField: wrong current password, new one breaking the rules, or a
                confirmation that differs.
        """
        stored = self._store.operators.password_hash(operator.id)
        if stored is None:
            raise UnknownOperator(email=operator.email)
        if not self._passwords.verify(stored, current):
            raise InvalidField("current", "password.current_wrong")
        self._check_rules(new, email=operator.email, field="new")
        if new != confirmation:
            raise InvalidField("confirmation", "password.mismatch")
        if new == current:
            raise InvalidField("new", "password.unchanged")
        self._store.operators.set_password(
            operator.id, password_hash=self._passwords.hash(new), must_change=False
        )
        self._audit(AuditAction.PASSWORD_CHANGED, actor=operator.email)

    def reset_password(
        self, operator_id: int, *, actor: Operator | None, password: str | None = None
    ) -> str | None:
        """Set a new password and end the account's sessions.

        Without `password` a temporary one is made, to be changed at the next sign-in, and
        returned; with it (the command line), that password is set as final.

        Raises:
            UnknownOperator: if there is no such account.
            InvalidField: if `password` breaks the rules.
        """
        operator = self.get(operator_id)
        temporary = None
        if password is None:
            password = temporary = temporary_password()
        else:
            self._check_rules(password, email=operator.email, field="password")
        self._store.operators.set_password(
            operator_id,
            password_hash=self._passwords.hash(password),
            must_change=temporary is not None,
        )
        self._store.sessions.remove_for_operator(operator_id)
        self._audit(AuditAction.PASSWORD_RESET, actor=actor, subject=operator.email)
        return temporary

    def set_active(self, operator_id: int, active: bool, *, actor: Operator | None) -> Operator:
        """Enable or disable an account; disabling ends its sessions at once.

        Raises:
            UnknownOperator: if there is no such account.
            LastAdmin: if it would leave no active administrator.
        """
        operator = self.get(operator_id)
        if not active and operator.is_admin and operator.active:
            self._keep_an_admin()
        self._store.operators.set_fields(operator_id, active=active)
        if not active:
            self._store.sessions.remove_for_operator(operator_id)
        action = AuditAction.OPERATOR_ENABLED if active else AuditAction.OPERATOR_DISABLED
        self._audit(action, actor=actor, subject=operator.email)
        return self.get(operator_id)

    def set_role(self, operator_id: int, role: Role, *, actor: Operator | None) -> Operator:
        """Make an account an operator or an administrator.

        Raises:
            UnknownOperator: if there is no such account.
            LastAdmin: if it would leave no active administrator.
        """
        operator = self.get(operator_id)
        if operator.role is role:
            return operator
        if operator.is_admin and operator.active:
            self._keep_an_admin()
        self._store.operators.set_fields(operator_id, role=role)
        self._audit(AuditAction.ROLE_CHANGED, actor=actor, subject=f"{operator.email} → {role}")
        return self.get(operator_id)

    def remove(self, operator_id: int, *, actor: Operator | None) -> None:
        """Delete an account and its sessions (the audit log keeps its e-mail).

        Raises:
            UnknownOperator: if there is no such account.
            LastAdmin: if it is the last active administrator.
        """
        operator = self.get(operator_id)
        if operator.is_admin and operator.active:
            self._keep_an_admin()
        self._store.operators.remove(operator_id)
        self._audit(AuditAction.OPERATOR_REMOVED, actor=actor, subject=operator.email)

    def _keep_an_admin(self) -> None:
        if self._store.operators.count_active_admins() <= 1:
            raise LastAdmin()

    def _check_rules(self, password: str, *, email: str, field: str) -> None:
        check_password_rules(
            password, email=email, min_length=self._settings.min_password_length, field=field
        )

    def _audit(
        self, action: AuditAction, *, actor: Operator | str | None, subject: str | None = None
    ) -> None:
        name = actor.email if isinstance(actor, Operator) else actor
        self._store.audit.add(at=self._clock.now(), actor=name, action=action, subject=subject)
