"""The stores: same behaviour in memory and on disk; encryption at rest; purge; atomicity."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from notifica.phone._crypto import KeyringKeyProvider, RawKeyProvider, ScryptKeyProvider
from notifica.phone._model import CovidStatus, Permissions, PhoneState
from notifica.phone._sightings import SightingColumns, calibrate_rssi
from notifica.phone._sqlite_store import SqliteStore
from notifica.phone._store import MemoryStore, PhoneStore
from notifica.phone.errors import StoreCorrupted, StoreError, WrongStoreKey

DAY = 86_400
T0 = 1_600_000_000 - 1_600_000_000 % DAY  # a UTC midnight


def _fast_scrypt(passphrase: str = "correct horse") -> ScryptKeyProvider:
    return ScryptKeyProvider(passphrase, n=2**4)


def _sightings(count: int, unix_s: int, *, seed: int = 0) -> SightingColumns:
    rng = np.random.default_rng(seed)
    return SightingColumns.build(
        rpis=rng.bytes(16 * count),
        aems=rng.bytes(4 * count),
        rssi_dbm=rng.integers(-90, -40, count),
        unix_s=unix_s + np.arange(count),
        previous_scan_unix_s=unix_s - 240,
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PhoneStore]:
    made: PhoneStore
    if request.param == "memory":
        made = MemoryStore()
    else:
        made = SqliteStore.open(tmp_path / "phone.db", _fast_scrypt())
    yield made
    made.close()


def test_store_satisfies_the_protocol(store: PhoneStore) -> None:
    assert isinstance(store, PhoneStore)


def test_state_round_trips(store: PhoneStore) -> None:
    assert store.load_state() is None
    state = PhoneState(
        onboarded=True,
        province="RM",
        permissions=Permissions(exposure_notifications=True, bluetooth=True),
        status=CovidStatus.RISK,
        teks=[("00" * 16, 2_664_000, 144)],
    )
    store.save_state(state)
    loaded = store.load_state()
    assert loaded is not None
    assert loaded.to_json() == state.to_json()


def test_sightings_come_back_in_order_and_since_a_time(store: PhoneStore) -> None:
    first, second = _sightings(5, T0, seed=1), _sightings(3, T0 + DAY, seed=2)
    store.add_sightings(first)
    store.add_sightings(second)
    everything = store.observations_since(0)
    assert everything.rpis == first.rpis + second.rpis
    assert everything.unix_s.tolist() == first.unix_s.tolist() + second.unix_s.tolist()
    assert store.observations_since(T0 + 3).rpis == first.rpis[48:] + second.rpis
    assert store.sighting_count() == 8


def test_purge_removes_exactly_what_is_older(store: PhoneStore) -> None:
    store.add_sightings(_sightings(10, T0 + 100))  # 100..109 s after midnight
    store.add_sightings(_sightings(4, T0 + 3 * DAY))
    removed = store.purge_before(T0 + 105)
    assert removed == 5
    left = store.observations_since(0)
    assert left.unix_s.min() == T0 + 105
    assert store.sighting_count() == 9


def test_transaction_rolls_back_everything_on_error(store: PhoneStore) -> None:
    store.save_state(PhoneState(province="MI"))

    def crash() -> None:
        with store.transaction():
            store.save_state(PhoneState(province="TO"))
            store.add_sightings(_sightings(3, T0))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    state = store.load_state()
    assert state is not None
    assert state.province == "MI"
    assert store.sighting_count() == 0


def test_sqlite_file_holds_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    store = SqliteStore.open(path, _fast_scrypt())
    block = _sightings(50, T0)
    tek = bytes(range(16))
    store.save_state(PhoneState(province="RM", teks=[(tek.hex(), 2_664_000, 144)]))
    store.add_sightings(block)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for i in range(50):
        assert block.rpi_at(i) not in raw
    assert tek not in raw
    assert tek.hex().encode() not in raw
    assert b'"RM"' not in raw
    assert b"province" not in raw


def test_sqlite_reopens_with_the_same_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    store = SqliteStore.open(path, _fast_scrypt())
    store.save_state(PhoneState(province="NA"))
    store.add_sightings(_sightings(4, T0))
    store.close()
    again = SqliteStore.open(path, _fast_scrypt())
    state = again.load_state()
    assert state is not None
    assert state.province == "NA"
    assert again.sighting_count() == 4
    again.close()


def test_sqlite_refuses_a_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    SqliteStore.open(path, _fast_scrypt()).close()
    with pytest.raises(WrongStoreKey, match="wrong passphrase"):
        SqliteStore.open(path, _fast_scrypt("wrong"))


def test_sqlite_refuses_another_provider_kind(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    SqliteStore.open(path, _fast_scrypt()).close()
    with pytest.raises(WrongStoreKey, match="scrypt"):
        SqliteStore.open(path, RawKeyProvider(bytes(32)))


def test_sqlite_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database at all " * 100)
    with pytest.raises(StoreCorrupted, match="not a notifica phone store"):
        SqliteStore.open(path, _fast_scrypt())


def test_sqlite_refuses_another_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreCorrupted, match="no header"):
        SqliteStore.open(path, _fast_scrypt())


def test_sqlite_detects_a_tampered_record(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    store = SqliteStore.open(path, RawKeyProvider(bytes(32)))
    store.save_state(PhoneState(province="RM"))
    store.add_sightings(_sightings(4, T0))
    store.close()
    with sqlite3.connect(path) as db:
        (sealed,) = db.execute("SELECT sealed FROM records").fetchone()
        flipped = bytes(sealed[:-1]) + bytes([sealed[-1] ^ 1])
        db.execute("UPDATE records SET sealed = ?", (flipped,))
        db.execute("UPDATE sightings SET day = day + 1")
    store = SqliteStore.open(path, RawKeyProvider(bytes(32)))
    with pytest.raises(StoreCorrupted, match="records/state fails authentication"):
        store.load_state()
    with pytest.raises(StoreCorrupted, match="sightings/1"):
        store.observations_since(0)
    store.close()


def test_sqlite_rejects_a_record_moved_between_stores(tmp_path: Path) -> None:
    a = SqliteStore.open(tmp_path / "a.db", RawKeyProvider(bytes(32)))
    b = SqliteStore.open(tmp_path / "b.db", RawKeyProvider(bytes(32)))
    a.save_state(PhoneState(province="RM"))
    b.save_state(PhoneState(province="MI"))
    a.close()
    b.close()
    with sqlite3.connect(tmp_path / "a.db") as db:
        (sealed,) = db.execute("SELECT sealed FROM records").fetchone()
    with sqlite3.connect(tmp_path / "b.db") as db:
        db.execute("UPDATE records SET sealed = ?", (sealed,))
    b = SqliteStore.open(tmp_path / "b.db", RawKeyProvider(bytes(32)))
    with pytest.raises(StoreCorrupted):
        b.load_state()
    b.close()


def test_sqlite_refuses_absurd_scrypt_parameters(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    SqliteStore.open(path, _fast_scrypt()).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'params'",
            (b'{"salt": "00", "n": 1073741824, "r": 8, "p": 1}',),
        )
    with pytest.raises(StoreCorrupted, match="scrypt"):
        SqliteStore.open(path, _fast_scrypt())


class _DictKeyring:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service_name: str, username: str) -> str | None:
        return self.entries.get((service_name, username))

    def set_password(self, service_name: str, username: str, password: str) -> None:
        self.entries[(service_name, username)] = password


def test_keyring_provider_keeps_the_key_outside_the_file(tmp_path: Path) -> None:
    keyring = _DictKeyring()
    path = tmp_path / "phone.db"
    store = SqliteStore.open(path, KeyringKeyProvider(keyring))
    store.save_state(PhoneState(province="BO"))
    store.close()
    (stored_key,) = keyring.entries.values()
    assert bytes.fromhex(stored_key) not in path.read_bytes()
    again = SqliteStore.open(path, KeyringKeyProvider(keyring))
    assert (again.load_state() or PhoneState()).province == "BO"
    again.close()
    with pytest.raises(WrongStoreKey, match="keyring holds no key"):
        SqliteStore.open(path, KeyringKeyProvider(_DictKeyring()))


def test_keyring_from_system_needs_the_optional_package() -> None:
    try:
        import keyring  # noqa: F401
    except ImportError:
        with pytest.raises(StoreError, match="keyring"):
            KeyringKeyProvider.from_system()
    else:  # pragma: no cover - depends on the machine
        pytest.skip("keyring is installed here")


@pytest.mark.parametrize("bad", ["", 3])
def test_scrypt_provider_rejects_bad_passphrases(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        ScryptKeyProvider(bad)  # type: ignore[arg-type]


def test_sighting_block_codec_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="sighting block"):
        SightingColumns.from_bytes(b"SGT1" + b"\x05\x00\x00\x00" + b"x" * 10)


def test_sighting_columns_reject_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="aems"):
        SightingColumns.build(
            rpis=bytes(32), aems=bytes(4), rssi_dbm=0, unix_s=0, previous_scan_unix_s=0
        )


def test_rssi_calibration_adds_the_offset_and_clamps() -> None:
    assert calibrate_rssi([-60, -125, 120], 5).tolist() == [-55, -120, 125]
    assert calibrate_rssi([-125, 125], -10).tolist() == [-127 + 0 * 8, 115]
    assert calibrate_rssi([120], 10).tolist() == [126]
