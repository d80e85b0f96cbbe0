"""Server-side sessions with idle and absolute time-outs and a CSRF token each.

Rules (OWASP Session Management and CSRF Prevention cheat sheets):

1. The cookie holds 32 random bytes; the database holds only their SHA-256, so a copy of
   the table cannot be replayed as cookies.
2. Signing in always makes a new session and deletes the one the form was shown in: a
   session id planted before sign-in (session fixation) is worth nothing after it.
3. A session ends `session_idle_s` after its last use and `session_absolute_s` after it
   began, whichever comes first; an operator disabled or removed loses it at once.
4. Each session has one synchronizer token; every form carries it and every POST is
   refused unless it matches (compared in constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from notifica.clock import Clock
from notifica.portal._records import Operator, SessionRecord
from notifica.portal._store import PortalStore
from notifica.portal.settings import PortalSettings

__all__ = ["MAX_TOKEN_LENGTH", "Sessions", "Visit"]

TOUCH_EVERY_S = 60
"""The last-use time is written at most once a minute (not on every request)."""
MAX_TOKEN_LENGTH = 64
"""Cookie values and CSRF tokens longer than this are not looked at."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """What a request's cookie amounts to."""

    session: SessionRecord | None = None
    operator: Operator | None = None
    expired: bool = False
    """A cookie came whose session has ended (or never existed)."""
    new_token: str | None = None
    """Set when the response must carry a new cookie."""

    def csrf_matches(self, submitted: str | None) -> bool:
        """Whether a form's token is this session's (rule 4)."""
        if self.session is None or not submitted or len(submitted) > MAX_TOKEN_LENGTH:
            return False
        return hmac.compare_digest(self.session.csrf_token.encode(), submitted.encode())


class Sessions:
    """Starting, resuming, rotating and ending sessions."""

    def __init__(self, store: PortalStore, clock: Clock, settings: PortalSettings) -> None:
        self._store = store
        self._clock = clock
        self._idle = timedelta(seconds=settings.session_idle_s)
        self._absolute = timedelta(seconds=settings.session_absolute_s)

    def resume(self, token: str | None) -> Visit:
        """The session behind a cookie value (rules 1 and 3)."""
        if not token:
            return Visit()
        if len(token) > MAX_TOKEN_LENGTH:
            return Visit(expired=True)
        token_hash = _hash(token)
        record = self._store.sessions.get(token_hash)
        if record is None:
            return Visit(expired=True)
        now = self._clock.now()
        if record.last_seen_at + self._idle <= now or record.created_at + self._absolute <= now:
            self._store.sessions.remove(token_hash)
            return Visit(expired=True)
        operator = None
        if record.operator_id is not None:
            operator = self._store.operators.by_id(record.operator_id)
            if operator is None or not operator.active:
                self._store.sessions.remove(token_hash)
                return Visit(expired=True)
        if (now - record.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
            self._store.sessions.touch(token_hash, now=now)
        return Visit(session=record, operator=operator)

    def start(self, *, operator: Operator | None = None, replacing: Visit | None = None) -> Visit:
        """A new session (anonymous, or an operator's at sign-in), replacing any old one."""
        now = self._clock.now()
        self._store.sessions.remove_expired(
            idle_before=now - self._idle, created_before=now - self._absolute
        )
        token = secrets.token_urlsafe(32)
        record = SessionRecord(
            token_hash=_hash(token),
            operator_id=None if operator is None else operator.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        old = replacing.session.token_hash if replacing and replacing.session else None
        self._store.sessions.replace(old, record)
        return Visit(session=record, operator=operator, new_token=token)

    def end(self, visit: Visit) -> None:
        """Delete the visit's session (sign-out)."""
        if visit.session is not None:
            self._store.sessions.remove(visit.session.token_hash)
