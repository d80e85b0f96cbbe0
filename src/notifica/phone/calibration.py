"""Google's Exposure Notifications device calibration table, and looking a phone up in it.

Each Android model has an RSSI correction (added to what its radio measures) and a TX power
(what it announces in its metadata), both chosen so that the device reports what "a typical
iPhone" would, and a calibration confidence (protocol.md §10.2, simulation.md §2). The table
shipped in `notifica/phone/data/` is Google's ``en-calibration-2020-08-12.csv``: 11,809
models, confidence 1 (OEM or family averages) or 3 (individually measured). Its header keeps
Google's leading space in ``" model"``. Data © Google, CC BY 4.0; see `data/PROVENANCE.md`.

Unknown devices. GMS's own lookup is not published (the INT source sets ``rssiOffset`` and
``txCalibrationPower`` to 0); the GAEN API documents ``CalibrationConfidence.LOWEST`` as "no
calibration data, using fleet-wide as default options". `CalibrationTable.lookup` follows
microG's refinement of that, which ends in the same fleet-wide default (MG ``DeviceInfo.kt``;
simulation.md §2):

1. the rows of that OEM and model (and device, when given): if they agree, that row as is;
2. otherwise the rows sharing the model or the device name ("sister devices"): their average
   at confidence MEDIUM, or lower if every source row is lower — unlike microG, a fallback
   never claims more confidence than the rows it averages;
3. otherwise the OEM's rows: their average at confidence LOW;
4. otherwise every row: the fleet-wide average at confidence LOWEST.

Names compare case-insensitively, as in microG, except that rows spelled exactly as asked win
(the table has case-only twins such as xiaomi ``MI A1`` at confidence 1 and ``Mi A1`` at 3);
averages round half up (Kotlin ``roundToInt``). CoraLibre instead used a constant 4 dB /
−25 dBm at confidence NONE.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from notifica.errors import NotificaError

__all__ = [
    "DEFAULT_TABLE_NAME",
    "CalibrationConfidence",
    "CalibrationDataError",
    "CalibrationTable",
    "DeviceCalibration",
]

DEFAULT_TABLE_NAME = "en-calibration-2020-08-12.csv"
"""The table shipped in `notifica/phone/data/` (data/PROVENANCE.md)."""

_HEADER = ("oem", "device", "model", "rssi correction", "tx", "calibration confidence")
"""Google's column names, compared after stripping spaces (the file has ``" model"``)."""


_INTEGER = re.compile(r"[+-]?[0-9]{1,4}")
"""ASCII digits only: ``int()`` alone would also take ``1_0`` or non-ASCII digits."""


class CalibrationDataError(NotificaError):
    """A calibration table that does not parse: the message names the source, line and field."""


class CalibrationConfidence(enum.IntEnum):
    """How well a device's values are known (GAEN ``CalibrationConfidence``; metadata bits 3:2)."""

    LOWEST = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceCalibration:
    """One device model's calibration: a table row, or a fallback built by `lookup`."""

    oem: str
    device: str
    model: str
    rssi_correction_db: int
    tx_power_dbm: int
    calibration_confidence: CalibrationConfidence

    def __post_init__(self) -> None:
        for name in ("rssi_correction_db", "tx_power_dbm"):
            value = getattr(self, name)
            if not -128 <= value <= 127:
                raise ValueError(f"{name} must fit a signed byte, got {value}")
        object.__setattr__(
            self, "calibration_confidence", CalibrationConfidence(self.calibration_confidence)
        )


class CalibrationTable:
    """An immutable calibration table with the lookups and sampling the phone and simulator need.

    Build it with `load_default()` (the shipped table, parsed once), `from_csv(text)` or
    directly from `DeviceCalibration` rows.
    """

    __slots__ = ("_by_device", "_by_model", "_by_oem", "_devices", "_fleet", "_oems")

    def __init__(self, devices: Iterable[DeviceCalibration]) -> None:
        self._devices = tuple(devices)
        if not self._devices:
            raise ValueError("a calibration table needs at least one device")
        self._by_oem: dict[str, list[DeviceCalibration]] = {}
        self._by_model: dict[str, list[DeviceCalibration]] = {}
        self._by_device: dict[str, list[DeviceCalibration]] = {}
        for row in self._devices:
            self._by_oem.setdefault(_key(row.oem), []).append(row)
            self._by_model.setdefault(_key(row.model), []).append(row)
            self._by_device.setdefault(_key(row.device), []).append(row)
        self._oems = tuple(self._by_oem)
        self._fleet = _average(self._devices, CalibrationConfidence.LOWEST)

    @classmethod
    def load_default(cls) -> CalibrationTable:
        """The shipped Google table (11,809 models), parsed on first use and then shared."""
        return _default_table()

    @classmethod
    def from_csv(cls, text: str, *, source: str = "calibration CSV") -> CalibrationTable:
        """Parse a table in Google's CSV layout.

        Raises:
            CalibrationDataError: naming `source`, the line and the field, if the header is not
                Google's, a row has the wrong number of fields, an empty name, a value that is
                not an integer in range, or repeats an (oem, device, model) triple.
        """
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
        try:
            header = next(reader, None)
            if header is None or tuple(name.strip() for name in header) != _HEADER:
                raise CalibrationDataError(
                    f"{source}, line 1: header is {header}, expected {_HEADER}"
                )
            rows = [_parse_row(record, source, reader.line_num) for record in reader]
        except csv.Error as exc:
            raise CalibrationDataError(f"{source}, line {reader.line_num}: {exc}") from exc
        if not rows:
            raise CalibrationDataError(f"{source}: no device rows after the header")
        seen: set[tuple[str, str, str]] = set()
        for line, row in enumerate(rows, start=2):
            triple = (row.oem, row.device, row.model)  # case matters: "MI A1" is not "Mi A1"
            if triple in seen:
                raise CalibrationDataError(f"{source}, line {line}: repeats device {triple}")
            seen.add(triple)
        return cls(rows)

    @property
    def devices(self) -> tuple[DeviceCalibration, ...]:
        """Every row, in file order."""
        return self._devices

    @property
    def oems(self) -> tuple[str, ...]:
        """The OEM names, lower case, in order of first appearance."""
        return self._oems

    @property
    def fleet_average(self) -> DeviceCalibration:
        """The fleet-wide default given to devices with no data (confidence LOWEST)."""
        return self._fleet

    def __len__(self) -> int:
        return len(self._devices)

    def __iter__(self) -> Iterator[DeviceCalibration]:
        return iter(self._devices)

    def find(
        self, model: str, *, oem: str | None = None, device: str | None = None
    ) -> tuple[DeviceCalibration, ...]:
        """The rows with this model, and this OEM and device when given (case-insensitive)."""
        return tuple(
            row
            for row in self._by_model.get(_key(model), ())
            if (oem is None or _key(row.oem) == _key(oem))
            and (device is None or _key(row.device) == _key(device))
        )

    def lookup(
        self, model: str, *, oem: str | None = None, device: str | None = None
    ) -> DeviceCalibration:
        """The calibration a phone of this model uses, with the module's fallback if unknown.

        A model alone (no `oem`) matches every OEM's rows of that name. The result of a
        fallback carries the names asked for and the confidence of its level.
        """
        exact = self.find(model, oem=oem, device=device)
        same_case = tuple(row for row in exact if _same_case(row, model, oem, device))
        exact = same_case or exact
        if exact and len({_values(row) for row in exact}) == 1:
            return exact[0]
        sisters = {id(row): row for row in exact}
        for row in self._by_model.get(_key(model), ()):
            sisters.setdefault(id(row), row)
        if device is not None:
            for row in self._by_device.get(_key(device), ()):
                sisters.setdefault(id(row), row)
        asked = {"oem": oem or "", "device": device or "", "model": model}
        if sisters:
            return _average(sisters.values(), CalibrationConfidence.MEDIUM, **asked)
        if oem is not None and _key(oem) in self._by_oem:
            return _average(self._by_oem[_key(oem)], CalibrationConfidence.LOW, **asked)
        return _average(self._devices, CalibrationConfidence.LOWEST, **asked)

    def sample(
        self, rng: random.Random, n: int, *, oem_weights: Mapping[str, float] | None = None
    ) -> list[DeviceCalibration]:
        """Draw `n` devices with replacement, reproducibly from `rng`.

        Without `oem_weights` every row is equally likely. With them (for a market-share mix),
        an OEM is drawn by weight, then one of its rows uniformly; OEMs not named get no
        phones. Names compare case-insensitively.

        Raises:
            ValueError: if `n` is negative, or a weight is negative, not finite, names an OEM
                not in the table, or all weights are zero.
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        if oem_weights is None:
            return [self._devices[rng.randrange(len(self._devices))] for _ in range(n)]
        oems, weights = [], []
        for name, weight in oem_weights.items():
            if _key(name) not in self._by_oem:
                raise ValueError(f"OEM {name!r} is not in the calibration table")
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight of OEM {name!r} must be finite and >= 0, got {weight}")
            oems.append(_key(name))
            weights.append(weight)
        if not any(weights):
            raise ValueError("at least one OEM weight must be positive")
        drawn: list[DeviceCalibration] = []
        for oem in rng.choices(oems, weights=weights, k=n):
            rows = self._by_oem[oem]
            drawn.append(rows[rng.randrange(len(rows))])
        return drawn


@functools.cache
def _default_table() -> CalibrationTable:
    # Package data read once; the table is immutable, so sharing it is safe.
    resource = resources.files("notifica.phone").joinpath("data", DEFAULT_TABLE_NAME)
    return CalibrationTable.from_csv(
        resource.read_text(encoding="utf-8"), source=f"notifica/phone/data/{DEFAULT_TABLE_NAME}"
    )


def _parse_row(record: Sequence[str], source: str, line: int) -> DeviceCalibration:
    if len(record) != len(_HEADER):
        raise CalibrationDataError(
            f"{source}, line {line}: {len(record)} fields, expected {len(_HEADER)}"
        )
    oem, device, model, rssi, tx, confidence = (field.strip() for field in record)
    for name, value in (("oem", oem), ("device", device), ("model", model)):
        if not value:
            raise CalibrationDataError(f"{source}, line {line}: field {name!r} is empty")
    return DeviceCalibration(
        oem=oem,
        device=device,
        model=model,
        rssi_correction_db=_integer(rssi, "rssi correction", -128, 127, source, line),
        tx_power_dbm=_integer(tx, "tx", -128, 127, source, line),
        calibration_confidence=CalibrationConfidence(
            _integer(confidence, "calibration confidence", 0, 3, source, line)
        ),
    )


def _integer(text: str, field: str, low: int, high: int, source: str, line: int) -> int:
    value = int(text) if _INTEGER.fullmatch(text) else None
    if value is None or not low <= value <= high:
        raise CalibrationDataError(
            f"{source}, line {line}: field {field!r} is {text!r}, expected an integer in "
            f"{low}..{high}"
        )
    return value


def _key(name: str) -> str:
    return name.strip().casefold()


def _same_case(row: DeviceCalibration, model: str, oem: str | None, device: str | None) -> bool:
    return (
        row.model == model.strip()
        and (oem is None or row.oem == oem.strip())
        and (device is None or row.device == device.strip())
    )


def _values(row: DeviceCalibration) -> tuple[int, int, int]:
    return row.rssi_correction_db, row.tx_power_dbm, row.calibration_confidence


def _average(
    rows: Iterable[DeviceCalibration],
    ceiling: CalibrationConfidence,
    *,
    oem: str = "",
    device: str = "",
    model: str = "",
) -> DeviceCalibration:
    rows = tuple(rows)
    confidence = min(ceiling, min(row.calibration_confidence for row in rows))
    return DeviceCalibration(
        oem=oem,
        device=device,
        model=model,
        rssi_correction_db=_round_half_up(sum(r.rssi_correction_db for r in rows) / len(rows)),
        tx_power_dbm=_round_half_up(sum(r.tx_power_dbm for r in rows) / len(rows)),
        calibration_confidence=CalibrationConfidence(confidence),
    )


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)
