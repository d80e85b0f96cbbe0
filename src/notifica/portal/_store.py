"""Storage of operators, sessions and the audit log; each method is one transaction.

The only module of the portal that builds SQL. Rows never leave it: methods return the
records of `notifica.portal._records`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from notifica.portal._database import PortalDatabase
from notifica.portal._records import AuditAction, AuditEntry, Operator, Role, SessionRecord
from notifica.portal._tables import audit_log, operators, sessions
from notifica.portal.errors import OperatorExists, PortalStorageError

__all__ = ["AuditStore", "OperatorStore", "PortalStore", "SessionStore"]

_OPERATOR_COLUMNS = [c for c in operators.c if c.name != "password_hash"]


def _operator(row: Row[Any]) -> Operator:
    m = row._mapping
    return Operator(
        id=m["id"],
        email=m["email"],
        role=Role(m["role"]),
        active=bool(m["active"]),
        must_change_password=bool(m["must_change_password"]),
        failed_sign_ins=m["failed_sign_ins"],
        locked_until=m["locked_until"],
        created_at=m["created_at"],
        last_sign_in_at=m["last_sign_in_at"],
    )


class OperatorStore:
    """Accounts and their failed-attempt counters."""

    def __init__(self, db: PortalDatabase) -> None:
        self._db = db

    def add(
        self, *, email: str, role: Role, password_hash: str, must_change: bool, now: datetime
    ) -> Operator:
        """Create an account.

        Raises:
            OperatorExists: if `email` is taken.
        """
        values = {
            "email": email,
            "role": role.value,
            "password_hash": password_hash,
            "active": True,
            "must_change_password": must_change,
            "failed_sign_ins": 0,
            "locked_until": None,
            "created_at": now,
            "last_sign_in_at": None,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(insert(operators).values(values)).inserted_primary_key
        except PortalStorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise OperatorExists(email=email) from None
            raise
        assert new_id is not None
        return Operator(
            id=int(new_id[0]),
            email=email,
            role=role,
            active=True,
            must_change_password=must_change,
            failed_sign_ins=0,
            locked_until=None,
            created_at=now,
            last_sign_in_at=None,
        )

    def by_email(self, email: str) -> Operator | None:
        """The account with this (normalised) e-mail."""
        with self._db.read() as conn:
            row = conn.execute(select(*_OPERATOR_COLUMNS).where(operators.c.email == email)).first()
        return None if row is None else _operator(row)

    def by_id(self, operator_id: int) -> Operator | None:
        """The account with this id."""
        with self._db.read() as conn:
            row = conn.execute(
                select(*_OPERATOR_COLUMNS).where(operators.c.id == operator_id)
            ).first()
        return None if row is None else _operator(row)

    def credentials(self, email: str) -> tuple[Operator, str] | None:
        """The account and its password hash, for signing in."""
        with self._db.read() as conn:
            row = conn.execute(select(operators).where(operators.c.email == email)).first()
        return None if row is None else (_operator(row), row._mapping["password_hash"])

    def password_hash(self, operator_id: int) -> str | None:
        """The stored hash of one account."""
        with self._db.read() as conn:
            return conn.execute(
                select(operators.c.password_hash).where(operators.c.id == operator_id)
            ).scalar_one_or_none()

    def all(self) -> list[Operator]:
        """Every account, by e-mail."""
        with self._db.read() as conn:
            rows = conn.execute(select(*_OPERATOR_COLUMNS).order_by(operators.c.email)).all()
        return [_operator(r) for r in rows]

    def count_active_admins(self) -> int:
        """How many enabled administrators there are."""
        stmt = select(func.count()).where(
            operators.c.role == Role.ADMIN.value, operators.c.active.is_(True)
        )
        with self._db.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def record_failure(self, operator_id: int, *, lock_for_s: int | None, now: datetime) -> int:
        """Count one failed sign-in; pause the account when `lock_for_s` is given.

        `lock_for_s` is computed by the caller from the count before this failure (the
        back-off rule lives in `notifica.portal._lockout`). Returns the new count.
        """
        changes: dict[str, Any] = {"failed_sign_ins": operators.c.failed_sign_ins + 1}
        if lock_for_s is not None:
            changes["locked_until"] = now + timedelta(seconds=lock_for_s)
        with self._db.write() as conn:
            conn.execute(update(operators).where(operators.c.id == operator_id).values(changes))
            return int(
                conn.execute(
                    select(operators.c.failed_sign_ins).where(operators.c.id == operator_id)
                ).scalar_one()
            )

    def record_sign_in(self, operator_id: int, *, now: datetime, new_hash: str | None) -> None:
        """A successful sign-in: counters cleared, time kept, hash upgraded if asked."""
        changes: dict[str, Any] = {
            "failed_sign_ins": 0,
            "locked_until": None,
            "last_sign_in_at": now,
        }
        if new_hash is not None:
            changes["password_hash"] = new_hash
        with self._db.write() as conn:
            conn.execute(update(operators).where(operators.c.id == operator_id).values(changes))

    def set_password(self, operator_id: int, *, password_hash: str, must_change: bool) -> bool:
        """Replace the password, clear the counters; False if there is no such account."""
        changes = {
            "password_hash": password_hash,
            "must_change_password": must_change,
            "failed_sign_ins": 0,
            "locked_until": None,
        }
        with self._db.write() as conn:
            result = conn.execute(
                update(operators).where(operators.c.id == operator_id).values(changes)
            )
            return bool(result.rowcount)

    def set_fields(self, operator_id: int, **changes: object) -> bool:
        """Set `active` and/or `role`; False if there is no such account."""
        allowed = {"active", "role"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"only {sorted(allowed)} can be set, got {sorted(changes)}")
        values = {k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()}
        with self._db.write() as conn:
            result = conn.execute(
                update(operators).where(operators.c.id == operator_id).values(values)
            )
            return bool(result.rowcount)

    def remove(self, operator_id: int) -> bool:
        """Delete the account and its sessions; False if there was none."""
        with self._db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.operator_id == operator_id))
            return bool(
                conn.execute(delete(operators).where(operators.c.id == operator_id)).rowcount
            )


class SessionStore:
    """Server-side sessions, found by the SHA-256 of the cookie value."""

    def __init__(self, db: PortalDatabase) -> None:
        self._db = db

    def add(self, record: SessionRecord) -> None:
        """Store a new session."""
        self.replace(None, record)

    def replace(self, old_token_hash: str | None, record: SessionRecord) -> None:
        """Delete the old session and store the new one in one transaction (sign-in)."""
        with self._db.write() as conn:
            if old_token_hash is not None:
                conn.execute(delete(sessions).where(sessions.c.token_hash == old_token_hash))
            conn.execute(
                insert(sessions).values(
                    token_hash=record.token_hash,
                    operator_id=record.operator_id,
                    csrf_token=record.csrf_token,
                    created_at=record.created_at,
                    last_seen_at=record.last_seen_at,
                )
            )

    def get(self, token_hash: str) -> SessionRecord | None:
        """The session with this token hash."""
        with self._db.read() as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
        if row is None:
            return None
        m = row._mapping
        return SessionRecord(
            token_hash=m["token_hash"],
            operator_id=m["operator_id"],
            csrf_token=m["csrf_token"],
            created_at=m["created_at"],
            last_seen_at=m["last_seen_at"],
        )

    def touch(self, token_hash: str, *, now: datetime) -> None:
        """Note that the session was used now (the idle time-out restarts)."""
        with self._db.write() as conn:
            conn.execute(
                update(sessions).where(sessions.c.token_hash == token_hash).values(last_seen_at=now)
            )

    def remove(self, token_hash: str) -> None:
        """End one session."""
        with self._db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def remove_for_operator(self, operator_id: int) -> int:
        """End every session of an account; return how many."""
        with self._db.write() as conn:
            return int(
                conn.execute(delete(sessions).where(sessions.c.operator_id == operator_id)).rowcount
            )

    def remove_expired(self, *, idle_before: datetime, created_before: datetime) -> int:
        """Drop sessions idle since `idle_before` or created before `created_before`."""
        stmt = delete(sessions).where(
            or_(sessions.c.last_seen_at < idle_before, sessions.c.created_at < created_before)
        )
        with self._db.write() as conn:
            return int(conn.execute(stmt).rowcount)

    def count(self) -> int:
        """How many sessions are stored (tests and diagnostics)."""
        with self._db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(sessions)).scalar_one())


class AuditStore:
    """The append-mostly audit log (a pending code line is updated once with its outcome)."""

    def __init__(self, db: PortalDatabase) -> None:
        self._db = db

    def add(
        self,
        *,
        at: datetime,
        actor: str | None,
        action: AuditAction,
        code_fingerprint: str | None = None,
        subject: str | None = None,
    ) -> AuditEntry:
        """Append one line and return it."""
        with self._db.write() as conn:
            key = conn.execute(
                insert(audit_log).values(
                    at=at,
                    actor=actor,
                    action=action.value,
                    code_fingerprint=code_fingerprint,
                    subject=subject,
                )
            ).inserted_primary_key
        assert key is not None
        return AuditEntry(
            id=int(key[0]),
            at=at,
            actor=actor,
            action=action,
            code_fingerprint=code_fingerprint,
            subject=subject,
        )

    def settle(self, entry_id: int, action: AuditAction) -> None:
        """Give a pending code line its outcome."""
        stmt = (
            update(audit_log)
            .where(and_(audit_log.c.id == entry_id, audit_log.c.action == AuditAction.CODE_PENDING))
            .values(action=action.value)
        )
        with self._db.write() as conn:
            conn.execute(stmt)

    def get(self, entry_id: int) -> AuditEntry | None:
        """One line by id."""
        with self._db.read() as conn:
            row = conn.execute(select(audit_log).where(audit_log.c.id == entry_id)).first()
        return None if row is None else _entry(row)

    def latest(self, *, limit: int = 200, code_fingerprint: str | None = None) -> list[AuditEntry]:
        """The newest lines first, optionally only those of one code fingerprint."""
        stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if code_fingerprint is not None:
            stmt = stmt.where(audit_log.c.code_fingerprint == code_fingerprint)
        with self._db.read() as conn:
            return [_entry(r) for r in conn.execute(stmt)]


def _entry(row: Row[Any]) -> AuditEntry:
    m = row._mapping
    return AuditEntry(
        id=m["id"],
        at=m["at"],
        actor=m["actor"],
        action=AuditAction(m["action"]),
        code_fingerprint=m["code_fingerprint"],
        subject=m["subject"],
    )


class PortalStore:
    """The portal's stores over one database."""

    def __init__(self, database: PortalDatabase) -> None:
        self.database = database
        self.operators = OperatorStore(database)
        self.sessions = SessionStore(database)
        self.audit = AuditStore(database)

    @classmethod
    def open(cls, url: str) -> PortalStore:
        """The stores on the database at `url` (call `upgrade` before first use)."""
        return cls(PortalDatabase(url))

    def upgrade(self) -> str:
        """Create or upgrade the portal's tables; return the revision."""
        return self.database.upgrade()

    def close(self) -> None:
        """Release connections."""
        self.database.dispose()
