"""Child process for the crash tests: runs detections on an SQLite store until killed.

Usage: python -m tests.phone.crash_child STORE_PATH MODE, MODE "block" (stops inside the
second detection, mid-download, after printing MID) or "loop" (detects forever, adding
batches and sightings, printing each committed detection count).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from datetime import timedelta

import httpx

from notifica.clock import SimClock
from notifica.phone import RawKeyProvider, SqliteStore

from .support import START, ScriptedBackend, exchange, make_phone, signed_batch

KEY = bytes(range(32))


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    clock = SimClock(START)
    backend = ScriptedBackend()
    sender = make_phone(backend, clock, seed=9)
    store = SqliteStore.open(path, RawKeyProvider(KEY))
    phone = make_phone(backend, clock, store=store, seed=10, onboard=store.load_state() is None)
    exchange(sender, phone, clock, minutes=20, attenuation_db=55)
    clock.advance(timedelta(days=1))
    sender.current_advertisement()
    keys_batch = signed_batch([])
    backend.batches[1] = keys_batch
    asyncio.run(phone.detect())
    print("READY", phone.state.detections_run, flush=True)
    if mode == "block":
        blocked = threading.Event()

        def fault(request: httpx.Request) -> httpx.Response | None:
            if request.url.path == "/v1/keys/2":
                print("MID", flush=True)
                blocked.wait()  # never set: the parent kills us here
            return None

        backend.batches[2] = keys_batch
        backend.fault = fault
        asyncio.run(phone.detect())
        return
    index = 1
    while True:
        index += 1
        backend.batches[index] = keys_batch
        exchange(sender, phone, clock, minutes=8, attenuation_db=60)
        report = asyncio.run(phone.detect())
        print("DONE", phone.state.detections_run, report.batches_processed, flush=True)


if __name__ == "__main__":
    main()
