"""Uploads: the OTP is consumed in the very transaction that stores the keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select

from notifica.server.repository._database import Database
from notifica.server.repository._upload_statement import (
    POSTGRES_UPLOAD,
    postgres_upload_parameters,
)
from notifica.server.repository.records import OtpGrant, StoredUpload
from notifica.server.repository.tables import exposure_payloads, otps, pending_keys, upload_log

__all__ = ["UploadStore"]

# Built once: constructing Core statements per request costs more than running them.
_CONSUME_OTP = (
    delete(otps)
    .where(otps.c.token_hash == bindparam("token_hash"), otps.c.expires_at > bindparam("now"))
    .returning(otps.c.symptoms_started_on, otps.c.id_test_verification)
)
_INSERT_KEYS = insert(pending_keys)

_INSERT_LOG = insert(upload_log)
_INSERT_PAYLOAD = insert(exposure_payloads)


class UploadStore:
    """Pending keys (until published), the upload log and epidemiological info."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def consume_otp_and_store(
        self, *, token_hash: str, upload: StoredUpload, now: datetime
    ) -> OtpGrant | None:
        """Delete the live OTP and store the upload, atomically; None if the OTP is not live.

        ``DELETE … RETURNING`` takes the row lock on PostgreSQL (and the write lock on SQLite),
        so of N concurrent uploads with one OTP exactly one sees the row.
        """
        received_at = now.replace(minute=0, second=0, microsecond=0)
        if not self._db.is_sqlite:
            return self._store_postgres(token_hash, upload, now, received_at)
        with self._db.write() as conn:
            row = conn.execute(_CONSUME_OTP, {"token_hash": token_hash, "now": now}).first()
            if row is None:
                return None
            grant = OtpGrant(symptoms_started_on=row[0], id_test_verification=row[1])
            if upload.keys:
                conn.execute(
                    _INSERT_KEYS,
                    [
                        {
                            "key_data": key_data,
                            "rolling_start_number": start,
                            "rolling_period": period,
                            "symptoms_started_on": grant.symptoms_started_on,
                            "received_at": received_at,
                        }
                        for key_data, start, period in upload.keys
                    ],
                )
            conn.execute(_INSERT_LOG, {"received_on": now.date()})
            conn.execute(
                _INSERT_PAYLOAD,
                {
                    "province": upload.province,
                    "symptoms_started_on": grant.symptoms_started_on,
                    "exposure_detection_summaries": upload.exposure_detection_summaries,
                    "received_on": now.date(),
                },
            )
        return grant

    def _store_postgres(
        self, token_hash: str, upload: StoredUpload, now: datetime, received_at: datetime
    ) -> OtpGrant | None:
        params = postgres_upload_parameters(token_hash, upload, now=now, received_at=received_at)
        with self._db.statement() as conn:  # one statement: atomic on its own
            row = conn.exec_driver_sql(POSTGRES_UPLOAD, params).first()
        if row is None:
            return None
        return OtpGrant(symptoms_started_on=row[0], id_test_verification=row[1])

    def pending_count(self) -> int:
        """Keys waiting to be published."""
        with self._db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(pending_keys)).scalar_one())

    def delete_received_before(self, moment: datetime) -> int:
        """Drop unpublished keys received before `moment` and the upload log; return keys."""
        with self._db.write() as conn:
            keys = conn.execute(delete(pending_keys).where(pending_keys.c.received_at < moment))
            conn.execute(delete(upload_log).where(upload_log.c.received_on < moment.date()))
            return keys.rowcount

    def delete_payloads_before(self, moment: datetime) -> int:
        """Drop epidemiological info received before `moment`'s day; return how many."""
        with self._db.write() as conn:
            return conn.execute(
                delete(exposure_payloads).where(exposure_payloads.c.received_on < moment.date())
            ).rowcount
