"""Nothing on disk is ever half-written: kill a process mid-detection and reopen its store."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from notifica.phone import RawKeyProvider, SqliteStore

from .crash_child import KEY

ROOT = Path(__file__).resolve().parents[2]


def _child(path: Path, mode: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "tests.phone.crash_child", str(path), mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen[str], word: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(word):
            return line
    raise AssertionError(f"child ended before printing {word}")


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_mid_detection_keeps_the_last_committed_state(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    child = _child(path, "block")
    try:
        ready = _wait_for(child, "READY")
        _wait_for(child, "MID")
    finally:
        _kill(child)
    store = SqliteStore.open(path, RawKeyProvider(KEY))
    state = store.load_state()
    assert state is not None
    assert state.detections_run == int(ready.split()[1]) == 1
    assert state.last_processed_index == 1
    assert store.sighting_count() == 5
    store.close()


def test_kills_at_random_moments_never_corrupt_the_store(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "phone.db"
    for _ in range(3):
        child = _child(path, "loop")
        try:
            _wait_for(child, "DONE")
            for _ in range(rng.randint(0, 3)):
                _wait_for(child, "DONE")
        finally:
            _kill(child)
        store = SqliteStore.open(path, RawKeyProvider(KEY))
        state = store.load_state()
        assert state is not None
        assert state.last_processed_index is not None
        assert state.detections_run >= 2
        assert store.observations_since(0).unix_s.size == store.sighting_count()
        store.close()
