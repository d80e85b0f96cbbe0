"""The store of a real phone: no plaintext identifiers, keys or province; 14-day retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from notifica.clock import SimClock
from notifica.phone import RawKeyProvider, SqliteStore

from .support import START, ScriptedBackend, exchange, make_phone


def test_phone_store_has_no_plaintext_and_forgets_after_14_days(tmp_path: Path) -> None:
    clock = SimClock(START)
    backend = ScriptedBackend()
    sender = make_phone(backend, clock, seed=1)
    store = SqliteStore.open(tmp_path / "phone.db", RawKeyProvider(bytes(32)))
    phone = make_phone(backend, clock, seed=2, store=store)
    heard: list[bytes] = []
    for _ in range(3):
        heard.append(sender.current_identifiers()[0])
        exchange(sender, phone, clock, minutes=20, attenuation_db=60)
        clock.advance(timedelta(hours=5))
        asyncio.run(phone.tick())
    own_keys = [bytes.fromhex(k) for k, _, _ in phone.state.teks]
    first_day_count = store.sighting_count()
    assert first_day_count == 15
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in [*heard, *own_keys, phone.current_identifiers()[0]]:
        assert secret not in raw
        assert secret.hex().encode() not in raw
    assert b'"RM"' not in raw
    assert b"province" not in raw

    # Fifteen days of ticks later the first day's sightings and keys are gone.
    exchange(sender, phone, clock, minutes=4, attenuation_db=60)
    for _ in range(15 * 6):
        clock.advance(timedelta(hours=4))
        asyncio.run(phone.tick())
    assert store.sighting_count() == 0
    assert all(k not in {bytes.fromhex(r[0]) for r in phone.state.teks} for k in own_keys)
    assert len(phone.state.teks) <= 15
    horizon = int((clock.now() - timedelta(days=14)).timestamp())
    assert store.observations_since(0).unix_s.size == 0 or (
        store.observations_since(0).unix_s.min() >= horizon
    )
    phone.close()
