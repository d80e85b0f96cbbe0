"""The upload as one PostgreSQL statement, shared by the sync store and the async ingestion path.

The DELETE takes the OTP's row lock: of concurrent uploads with one OTP only the first finds the
row, and the inserts (all fed by ``consumed``) insert nothing for the others. One statement is
one transaction and one round trip. Written in psycopg's placeholder style (``%(name)s``, ``b``
for binary arrays), so both paths hand it to the driver as it is.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from notifica.server.repository.records import StoredUpload

__all__ = ["POSTGRES_UPLOAD", "postgres_upload_parameters"]

POSTGRES_UPLOAD = """
    WITH consumed AS (
        DELETE FROM otps WHERE token_hash = %(token_hash)s AND expires_at > %(now)s
        RETURNING symptoms_started_on, id_test_verification
    ), keys AS (
        INSERT INTO pending_keys
            (key_data, rolling_start_number, rolling_period, symptoms_started_on, received_at)
        SELECT k.key_data, k.start, k.period, consumed.symptoms_started_on, %(received_at)s
        FROM consumed,
             unnest(%(key_data)b::bytea[], %(starts)b::bigint[], %(periods)b::smallint[])
                 AS k(key_data, start, period)
    ), log AS (
        INSERT INTO upload_log (received_on) SELECT %(day)s FROM consumed
    ), payload AS (
        INSERT INTO exposure_payloads
            (province, symptoms_started_on, exposure_detection_summaries, received_on)
        SELECT %(province)s, consumed.symptoms_started_on, %(summaries)s::json, %(day)s
        FROM consumed
    )
    SELECT symptoms_started_on, id_test_verification FROM consumed
"""


def postgres_upload_parameters(
    token_hash: str, upload: StoredUpload, *, now: datetime, received_at: datetime
) -> dict[str, Any]:
    """The parameters of `POSTGRES_UPLOAD` for one upload."""
    return {
        "token_hash": token_hash,
        "now": now,
        "received_at": received_at,
        "key_data": [k[0] for k in upload.keys],
        "starts": [k[1] for k in upload.keys],
        "periods": [k[2] for k in upload.keys],
        "day": now.date(),
        "province": upload.province,
        "summaries": json.dumps(upload.exposure_detection_summaries),
    }
