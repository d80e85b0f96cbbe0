"""Rules of the code base that a grep can check (docs/architecture.md)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "notifica"
WALL_CLOCK = re.compile(r"time\.time\(\)|datetime\.now\(|datetime\.utcnow\(|date\.today\(")


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in SRC.rglob("*.py")
        if path.name != "clock.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_protocol_layer_exports_are_sorted_and_resolvable() -> None:
    import notifica.protocol as protocol

    assert len(set(protocol.__all__)) == len(protocol.__all__)
    for name in protocol.__all__:
        assert getattr(protocol, name) is not None


def test_modules_stay_readable_in_one_pass() -> None:
    too_long = [
        f"{path.relative_to(SRC)} ({n} lines)"
        for path in SRC.rglob("*.py")
        if not path.name.endswith("_pb2.py") and (n := len(path.read_text().splitlines())) > 600
    ]
    assert too_long == []
