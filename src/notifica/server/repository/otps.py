"""OTPs authorised by health operators, and the HIS clients allowed to authorise them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from notifica.server.repository._database import Database
from notifica.server.repository.records import HisClient, OtpGrant
from notifica.server.repository.tables import his_clients, otp_log, otps

__all__ = ["HisClientStore", "OtpStore"]

_FIND_LIVE = select(otps.c.symptoms_started_on, otps.c.id_test_verification).where(
    otps.c.token_hash == bindparam("token_hash"), otps.c.expires_at > bindparam("now")
)
"""Built once: constructing Core statements per request costs more than running them."""


class OtpStore:
    """Only the SHA-256 of each OTP is stored, with its expiry (immuni-api.md §3.2)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def authorise(self, *, token_hash: str, grant: OtpGrant, now: datetime, ttl_s: int) -> bool:
        """Set the OTP if absent or expired; False when a live one exists (→ 409)."""
        values = {
            "token_hash": token_hash,
            "symptoms_started_on": grant.symptoms_started_on,
            "id_test_verification": grant.id_test_verification,
            "expires_at": now + timedelta(seconds=ttl_s),
        }
        dialect = postgresql if not self._db.is_sqlite else sqlite
        stmt = dialect.insert(otps).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[otps.c.token_hash],
            set_={k: stmt.excluded[k] for k in values if k != "token_hash"},
            where=otps.c.expires_at <= now,
        ).returning(otps.c.token_hash)
        with self._db.write() as conn:
            done = conn.execute(stmt).first() is not None
            if done:
                conn.execute(insert(otp_log).values(authorised_on=now.date()))
        return done

    def find_live(self, *, token_hash: str, now: datetime) -> OtpGrant | None:
        """The grant of a live OTP, without consuming it (check-otp)."""
        with self._db.read() as conn:
            row = conn.execute(_FIND_LIVE, {"token_hash": token_hash, "now": now}).first()
        if row is None:
            return None
        return OtpGrant(symptoms_started_on=row[0], id_test_verification=row[1])

    def delete_expired(self, *, now: datetime) -> int:
        """Drop expired OTPs; return how many."""
        with self._db.write() as conn:
            return conn.execute(delete(otps).where(otps.c.expires_at <= now)).rowcount


class HisClientStore:
    """API keys of the health operators' systems, stored as SHA-256 (they are 256-bit random)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, *, name: str, token_hash: str, now: datetime) -> HisClient | None:
        """Register a client; None if the name is taken."""
        with self._db.write() as conn:
            exists = conn.execute(select(his_clients.c.id).where(his_clients.c.name == name))
            if exists.first() is not None:
                return None
            new_id = conn.execute(
                insert(his_clients)
                .values(name=name, token_hash=token_hash, created_at=now)
                .returning(his_clients.c.id)
            ).scalar_one()
        return HisClient(id=new_id, name=name, created_at=now)

    def find_by_token_hash(self, token_hash: str) -> tuple[HisClient, str] | None:
        """The client with this key hash and the stored hash (to compare in constant time)."""
        stmt = select(
            his_clients.c.id, his_clients.c.name, his_clients.c.created_at, his_clients.c.token_hash
        ).where(his_clients.c.token_hash == token_hash)
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return HisClient(id=row[0], name=row[1], created_at=row[2]), row[3]

    def find_by_name(self, name: str) -> HisClient | None:
        """The client called `name`."""
        stmt = select(his_clients.c.id, his_clients.c.name, his_clients.c.created_at).where(
            his_clients.c.name == name
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else HisClient(id=row[0], name=row[1], created_at=row[2])

    def list(self) -> list[HisClient]:
        """Every client, by name."""
        stmt = select(his_clients.c.id, his_clients.c.name, his_clients.c.created_at).order_by(
            his_clients.c.name
        )
        with self._db.read() as conn:
            return [HisClient(id=r[0], name=r[1], created_at=r[2]) for r in conn.execute(stmt)]

    def remove(self, name: str) -> bool:
        """Revoke a client's key; False if there was none."""
        with self._db.write() as conn:
            return conn.execute(delete(his_clients).where(his_clients.c.name == name)).rowcount > 0

    def count(self) -> int:
        """How many clients exist."""
        with self._db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(his_clients)).scalar_one())
