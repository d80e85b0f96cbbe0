"""What the portal's stores return: small frozen values, never rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AuditAction", "AuditEntry", "Operator", "Role", "SessionRecord"]


class Role(StrEnum):
    """What an account may do: operators authorise codes; admins also manage the portal."""

    OPERATOR = "operator"
    ADMIN = "admin"


class AuditAction(StrEnum):
    """What the audit log records (no citizen data: codes appear only as a fingerprint)."""

    CODE_PENDING = "code.pending"  # written before the backend is called; updated after
    CODE_AUTHORISED = "code.authorised"
    CODE_ALREADY_AUTHORISED = "code.already_authorised"
    CODE_REFUSED = "code.refused"  # the backend refused what the portal accepted
    SIGNED_IN = "signin.ok"
    SIGN_IN_FAILED = "signin.failed"
    SIGN_IN_PAUSED = "signin.paused"
    SIGNED_OUT = "signout"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an action name
    PASSWORD_RESET = "password.reset"  # noqa: S105 - an action name
    OPERATOR_CREATED = "operator.created"
    OPERATOR_DISABLED = "operator.disabled"
    OPERATOR_ENABLED = "operator.enabled"
    OPERATOR_REMOVED = "operator.removed"
    ROLE_CHANGED = "operator.role"


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """A health-authority account (no password hash: that stays in the store)."""

    id: int
    email: str
    role: Role
    active: bool
    must_change_password: bool
    failed_sign_ins: int
    locked_until: datetime | None
    created_at: datetime
    last_sign_in_at: datetime | None

    @property
    def is_admin(self) -> bool:
        """Whether the account may manage operators and see counts and the audit log."""
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A browser session: anonymous (the sign-in form) or an operator's."""

    token_hash: str
    operator_id: int | None
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str | None
    action: AuditAction
    code_fingerprint: str | None
    subject: str | None
