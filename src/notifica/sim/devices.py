"""Phones of the adopters: device model calibration and its residual error (sim §2).

Android models come from Google's per-device calibration table through a `DeviceSampler` —
in production `notifica.phone.calibration.CalibrationTable` (branch ble-otp, contracts.md),
wrapped by `CalibrationTableSampler`. iPhones are not in that table: Android values are defined
relative to "a typical iPhone", so an iPhone has RSSI correction 0 and the TX power that makes
the fitted 1-m attenuation come out (`RadioParams.ios_tx_power_dbm`).

Each phone also gets its *residual* calibration error ε: what calibration leaves uncorrected.
GAEN then computes attenuation = true loss + ε_sender + ε_receiver (sim §2, "Simulator recipe").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

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
    """Draws Android device models (the contract of ``CalibrationTable.sample``)."""

    def sample(self, rng: np.random.Generator, n: int) -> DeviceDraw:
        """`n` phones' calibration values."""
        ...


class CalibrationTableSampler:
    """Adapts the phone layer's ``CalibrationTable`` to `DeviceSampler`.

    The table's ``sample(rng, n)`` is expected to return columns named like `DeviceDraw`'s
    (``tx_power_dbm``, ``rssi_correction_db``, ``calibration_confidence``), as arrays or
    sequences; this adapter converts them.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def sample(self, rng: np.random.Generator, n: int) -> DeviceDraw:
        drawn = self._table.sample(rng, n)
        return DeviceDraw(
            tx_power_dbm=np.asarray(drawn.tx_power_dbm, dtype=np.int8),
            rssi_correction_db=np.asarray(drawn.rssi_correction_db, dtype=np.int8),
            calibration_confidence=np.asarray(drawn.calibration_confidence, dtype=np.int8),
        )


def load_device_sampler() -> DeviceSampler:
    """Google's calibration table from the phone layer (``notifica.phone.calibration``).

    The import is here rather than at the top until branch ble-otp, which adds the module,
    lands on main.
    """
    from notifica.phone.calibration import CalibrationTable

    return CalibrationTableSampler(CalibrationTable.load())


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
