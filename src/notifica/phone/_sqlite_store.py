"""The default store of a real phone: one SQLite file, every record sealed (see `_crypto`).

Layout (all payloads AES-256-GCM, bound to their row by associated data):

    meta(key, value)                      format, version, store id, key provider, wrapped key
    records(name, sealed)                 "state": the `PhoneState` JSON
    sightings(id, day, n, sealed)         one block per scan: `SightingColumns` of that scan

``day`` (UTC day number) and ``n`` (packets in the block) stay in plain text so that old days
can be purged and counted without decrypting; they reveal on which days something was heard,
never what. Purging rewrites the boundary day's blocks so that no sighting older than the
cut-off survives, and ``secure_delete`` overwrites freed pages.

Atomicity comes from SQLite's rollback journal with ``synchronous=FULL``: a transaction that a
killed process did not commit is rolled back when the file is next opened.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from notifica.phone._crypto import KeyProvider, Sealer, unwrap_key, wrap_key
from notifica.phone._model import PhoneState
from notifica.phone._sightings import SightingColumns
from notifica.phone.errors import StoreCorrupted, StoreError, WrongStoreKey

__all__ = ["SqliteStore"]

FORMAT = b"notifica-phone-store"
VERSION = b"1"
_DAY_S = 86_400

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE records (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE sightings (id INTEGER PRIMARY KEY, day INTEGER NOT NULL, n INTEGER NOT NULL,
                        sealed BLOB NOT NULL);
CREATE INDEX sightings_day ON sightings (day);
"""


class SqliteStore:
    """An encrypted SQLite phone store; create or open it with `SqliteStore.open`."""

    def __init__(self, connection: sqlite3.Connection, sealer: Sealer, path: Path) -> None:
        self._db = connection
        self._sealer = sealer
        self._path = path
        self._depth = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str], key_provider: KeyProvider) -> SqliteStore:
        """Open the store at `path`, creating it (and the data key) if the file is absent.

        Raises:
            StoreCorrupted: if the file is not a notifica phone store (or a damaged one).
            WrongStoreKey: if `key_provider` does not hold this store's key.
            StoreError: if the file cannot be opened at all.
        """
        where = Path(path)
        is_new = not where.exists() or where.stat().st_size == 0
        try:
            db = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: cannot open the phone store: {exc}") from exc
        try:
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA secure_delete = ON")
            if is_new:
                sealer = cls._initialise(db, key_provider)
            else:
                sealer = cls._unlock(db, key_provider, where)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreCorrupted(f"{where}: not a notifica phone store ({exc})") from exc
        except BaseException:
            db.close()
            raise
        return cls(db, sealer, where)

    @staticmethod
    def _initialise(db: sqlite3.Connection, provider: KeyProvider) -> Sealer:
        store_id = os.urandom(16)
        kek, params = provider.create_kek(store_id)
        data_key = Sealer.new_data_key()
        db.execute("BEGIN IMMEDIATE")
        for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
            db.execute(statement)
        rows = {
            "format": FORMAT,
            "version": VERSION,
            "store_id": store_id,
            "provider": provider.kind.encode(),
            "params": json.dumps(params).encode(),
            "wrapped_key": wrap_key(kek, data_key, store_id),
        }
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())
        db.execute("COMMIT")
        return Sealer(data_key, store_id)

    @staticmethod
    def _unlock(db: sqlite3.Connection, provider: KeyProvider, where: Path) -> Sealer:
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError as exc:
            raise StoreCorrupted(f"{where}: not a notifica phone store (no header)") from exc
        if meta.get("format") != FORMAT:
            raise StoreCorrupted(f"{where}: not a notifica phone store (wrong format tag)")
        if meta.get("version") != VERSION:
            raise StoreCorrupted(f"{where}: unsupported store version {meta.get('version')!r}")
        try:
            store_id = bytes(meta["store_id"])
            kind = bytes(meta["provider"]).decode()
            params = json.loads(bytes(meta["params"]))
            wrapped = bytes(meta["wrapped_key"])
        except (KeyError, ValueError) as exc:
            raise StoreCorrupted(f"{where}: damaged store header ({exc})") from exc
        if kind != provider.kind:
            raise WrongStoreKey(
                f"{where}: the store is locked with a {kind!r} key, not a {provider.kind!r} one"
            )
        kek = provider.open_kek(store_id, params)
        return Sealer(unwrap_key(kek, wrapped, store_id, where=str(where)), store_id)

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._execute("ROLLBACK")
            raise
        self._depth = 0
        self._execute("COMMIT")

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    def _execute(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupted(f"{self._path}: {exc}") from exc

    # -- state ------------------------------------------------------------------------------

    def load_state(self) -> PhoneState | None:
        row = self._execute("SELECT sealed FROM records WHERE name = 'state'").fetchone()
        if row is None:
            return None
        plaintext = self._sealer.open("records/state", bytes(row[0]))
        try:
            return PhoneState.from_json(plaintext)
        except ValueError as exc:
            raise StoreCorrupted(f"{self._path}: {exc}") from exc

    def save_state(self, state: PhoneState) -> None:
        sealed = self._sealer.seal("records/state", state.to_json())
        self._execute(
            "INSERT INTO records (name, sealed) VALUES ('state', ?) "
            "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed",
            (sealed,),
        )

    # -- sightings --------------------------------------------------------------------------

    def _seal_block(self, block_id: int, day: int, block: SightingColumns) -> bytes:
        return self._sealer.seal(f"sightings/{block_id}/{day}", block.to_bytes())

    def _open_block(self, block_id: int, day: int, sealed: bytes) -> SightingColumns:
        plaintext = self._sealer.open(f"sightings/{block_id}/{day}", sealed)
        try:
            return SightingColumns.from_bytes(plaintext)
        except ValueError as exc:
            raise StoreCorrupted(f"{self._path}: sighting block {block_id}: {exc}") from exc

    def add_sightings(self, sightings: SightingColumns) -> None:
        if not len(sightings):
            return
        days = sightings.unix_s // _DAY_S
        with self.transaction():
            (next_id,) = self._execute("SELECT COALESCE(MAX(id), 0) + 1 FROM sightings").fetchone()
            for day in sorted({int(d) for d in days}):
                block = sightings.select(days == day)
                self._execute(
                    "INSERT INTO sightings (id, day, n, sealed) VALUES (?, ?, ?, ?)",
                    (next_id, day, len(block), self._seal_block(next_id, day, block)),
                )
                next_id += 1

    def observations_since(self, unix_s: int) -> SightingColumns:
        rows = self._execute(
            "SELECT id, day, sealed FROM sightings WHERE day >= ? ORDER BY id",
            (unix_s // _DAY_S,),
        ).fetchall()
        blocks = [self._open_block(i, d, bytes(s)).since(unix_s) for i, d, s in rows]
        return SightingColumns.concatenate([b for b in blocks if len(b)])

    def sighting_count(self) -> int:
        (count,) = self._execute("SELECT COALESCE(SUM(n), 0) FROM sightings").fetchone()
        return int(count)

    def purge_before(self, unix_s: int) -> int:
        cutoff_day = unix_s // _DAY_S
        with self.transaction():
            (removed,) = self._execute(
                "SELECT COALESCE(SUM(n), 0) FROM sightings WHERE day < ?", (cutoff_day,)
            ).fetchone()
            self._execute("DELETE FROM sightings WHERE day < ?", (cutoff_day,))
            boundary = self._execute(
                "SELECT id, day, sealed FROM sightings WHERE day = ?", (cutoff_day,)
            ).fetchall()
            for block_id, day, sealed in boundary:
                block = self._open_block(block_id, day, bytes(sealed))
                kept = block.since(unix_s)
                if len(kept) == len(block):
                    continue
                removed += len(block) - len(kept)
                if len(kept):
                    self._execute(
                        "UPDATE sightings SET n = ?, sealed = ? WHERE id = ?",
                        (len(kept), self._seal_block(block_id, day, kept), block_id),
                    )
                else:
                    self._execute("DELETE FROM sightings WHERE id = ?", (block_id,))
        return int(removed)

    def close(self) -> None:
        self._db.close()
