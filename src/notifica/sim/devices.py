"""Phones of the adopters: device model calibration and its residual error (sim §2).

Android models come from Google's per-device calibration table through a `DeviceSampler` —
in production the phone layer's `notifica.phone.calibration.CalibrationTable`, wrapped by
`CalibrationTableSampler` (`load_device_sampler()`). iPhones are not in that table: Android
values are defined relative to "a typical iPhone", so an iPhone has RSSI correction 0 and the
TX power that makes the fitted 1-m attenuation come out (`RadioParams.ios_tx_power_dbm`).

Each phone also gets its *residual* calibration error ε: what calibration leaves uncorrected.
GAEN then computes attenuation = true loss + ε_sender + ε_receiver (sim §2, "Simulator recipe").
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from notifica.phone.calibration import CalibrationTable
from notifica.sim._params_radio import RadioParams

__all__ = [
    "CalibrationTableSampler",
    "DeviceDraw",
    "DeviceSampler",
    "Devices",
    "assign_devices",
    "load_device_sampler",
]

#: CoraLibre's values for a model missing from the table (sim §2): correction 4, tx -25,
#: confidence 0 (NONE); used when no table is given (runs without phones).
FALLBACK_TX_POWER_DBM = -25
FALLBACK_RSSI_CORRECTION_DB = 4


@dataclass(frozen=True, slots=True, eq=False)
class DeviceDraw:
    """Calibration values of `n` Android phones drawn from the table."""

    tx_power_dbm: npt.NDArray[np.int8]
    rssi_correction_db: npt.NDArray[np.int8]
    calibration_confidence: npt.NDArray[np.int8]


class DeviceSampler(Protocol):
    """Draws Android device models as columns (what `assign_devices` needs)."""

    def sample(self, rng: np.random.Generator, n: int) -> DeviceDraw:
        """`n` phones' calibration values."""
        ...


class CalibrationTableSampler:
    """`DeviceSampler` over the phone layer's `CalibrationTable` (Google's table, sim §2).

    The table draws rows with a `random.Random`; this adapter seeds one from the NumPy stream
    it is given, so the draw stays reproducible from the run's seed, and turns the rows into
    columns. Rows are equally likely unless `oem_weights` gives a market-share mix.
    """

    def __init__(
        self, table: CalibrationTable, *, oem_weights: Mapping[str, float] | None = None
    ) -> None:
        self._table = table
        self._oem_weights = dict(oem_weights) if oem_weights is not None else None

    def sample(self, rng: np.random.Generator, n: int) -> DeviceDraw:
        stream = random.Random(int(rng.integers(0, 2**63 - 1)))  # noqa: S311 - simulation, not secrets
        rows = self._table.sample(stream, n, oem_weights=self._oem_weights)
        return DeviceDraw(
            tx_power_dbm=np.array([row.tx_power_dbm for row in rows], dtype=np.int8),
            rssi_correction_db=np.array([row.rssi_correction_db for row in rows], dtype=np.int8),
            calibration_confidence=np.array(
                [int(row.calibration_confidence) for row in rows], dtype=np.int8
            ),
        )


def load_device_sampler() -> CalibrationTableSampler:
    """Google's calibration table as shipped with the phone layer, rows equally likely."""
    return CalibrationTableSampler(CalibrationTable.load_default())


@dataclass(frozen=True, slots=True, eq=False)
class Devices:
    """Per-resident phone columns; residents without the app hold zeros (``has_phone``)."""

    has_phone: npt.NDArray[np.bool_]
    is_ios: npt.NDArray[np.bool_]
    tx_power_dbm: npt.NDArray[np.int8]
    rssi_correction_db: npt.NDArray[np.int8]
    calibration_confidence: npt.NDArray[np.int8]
    calibration_error_db: npt.NDArray[np.float32]


def assign_devices(
    rng: np.random.Generator,
    adopter: npt.NDArray[np.bool_],
    *,
    ios_share: float,
    radio: RadioParams,
    sampler: DeviceSampler | None,
) -> Devices:
    """Give every adopter a phone: iPhone or an Android model, and a residual error ε."""
    n = len(adopter)
    ids = np.flatnonzero(adopter)
    ios = rng.random(len(ids)) < ios_share
    android = ids[~ios]
    tx = np.zeros(n, dtype=np.int8)
    correction = np.zeros(n, dtype=np.int8)
    confidence = np.zeros(n, dtype=np.int8)
    if sampler is not None and len(android):
        draw = sampler.sample(rng, len(android))
        tx[android] = draw.tx_power_dbm
        correction[android] = draw.rssi_correction_db
        confidence[android] = draw.calibration_confidence
    else:
        tx[android] = FALLBACK_TX_POWER_DBM
        correction[android] = FALLBACK_RSSI_CORRECTION_DB
    ios_ids = ids[ios]
    tx[ios_ids] = round(radio.ios_tx_power_dbm)
    confidence[ios_ids] = 3
    sigma = np.where(
        confidence[ids] >= 3, radio.calibration_sigma_high_db, radio.calibration_sigma_low_db
    )
    sigma = np.where(ios, radio.calibration_sigma_ios_db, sigma)
    error = np.zeros(n, dtype=np.float32)
    error[ids] = rng.normal(0.0, 1.0, len(ids)) * sigma
    is_ios = np.zeros(n, dtype=bool)
    is_ios[ios_ids] = True
    return Devices(adopter.copy(), is_ios, tx, correction, confidence, error)
