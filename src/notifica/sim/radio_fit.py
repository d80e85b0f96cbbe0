"""Fit the radio channel's parameters to the shipped measurements (``notifica sim fit-radio``).

Data (``data/``, provenance in ``data/PROVENANCE.md``):

- Herald robot cable-car (sim §1.2.1): per-position median and SD of raw RSSI, 0–3.4 m, 48
  phone pairs. Fitted: the near distance slope `n` (one slope, one intercept per pair: a fixed
  effects regression on log-distance, each pair weighted equally), the position-locked
  undulation (SD of per-position medians around the fit), the per-packet noise (median
  within-position SD), the calibrated attenuation at 1 m (Android pairs, converted with Google's
  calibration values of the two phones: attenuation = tx_sender − (RSSI + correction_receiver)),
  the residual calibration error (spread of that 1-m attenuation across pairs, / √2 for two
  phones), the TX power that makes iPhones consistent with it, and the undulation's correlation
  length (1-cm-step files).
- MIT-LL static 6-ft collects (sim §1.2.2): medians by environment × user rotation × carriage.
  Fitted: ``median = level(env, carriage) − B_env · (1 − cos(θ − φ_carriage)) / 2`` with θ the
  user's rotation and φ the side of the body the phone is on; B in the anechoic chamber is the
  body loss, B_env / B_anechoic the environment's body factor, level differences the carriage
  and wall losses.

Everything is deterministic: the same data give the same numbers, written to
`docs/radio-fit.md` (`radio_fit_report.render_report`); the scenario defaults are these numbers
rounded (`RadioFit.scenario_values`).
"""

from __future__ import annotations

import csv
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "BinError",
    "RadioFit",
    "data_dir",
    "fit_radio",
    "herald_calibrated_attenuation",
]

#: Herald distances used (m): below 0.2 m the phones touch; the range ends at 3.4 m.
HERALD_RANGE_M = (0.2, 3.4)
#: Distance bins of the fit report (m).
DISTANCE_BINS_M = (0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 3.4)
#: Herald's iPhones (upstream README: Denmark 6S, Germany 5S, Netherlands 6 Plus; 6S+, 8+).
HERALD_IPHONES = frozenset({"Denmark", "Germany", "Netherlands", "6S+", "8+", "4S", "X"})
#: MIT-LL environment names → the simulator's radio environment they stand for.
MITLL_ENVIRONMENTS = {
    "Anechoic Chamber": "anechoic",
    "Screen Room": "vehicle",
    "Conference Room": "indoor",
    "Courtyard": "outdoor",
}
MITLL_CARRIAGE = {
    "front_pants_pocket_left": "front_pocket",
    "back_pants_pocket": "back_pocket",
    "purse_right": "bag",
    "held_to_left_ear": "hand",
}
MITLL_DISTANCE_M = 1.83


def data_dir() -> Path:
    """The packaged data folder."""
    return Path(str(resources.files("notifica.sim").joinpath("data")))


@dataclass(frozen=True, slots=True)
class BinError:
    """Model error (observed − fitted, dB) over one group of measurements."""

    label: str
    count: int
    median_db: float
    p25_db: float
    p75_db: float
    sd_db: float

    @classmethod
    def of(cls, label: str, errors: npt.NDArray[np.float64]) -> BinError:
        if len(errors) == 0:
            return cls(label, 0, math.nan, math.nan, math.nan, math.nan)
        p25, median, p75 = np.percentile(errors, [25, 50, 75])
        return cls(label, len(errors), float(median), float(p25), float(p75), float(np.std(errors)))


@dataclass(frozen=True, slots=True)
class RadioFit:
    """Fitted parameters and the fit report's tables."""

    slope_near: float
    slope_per_pair_median: float
    slope_per_pair_iqr: tuple[float, float]
    undulation_sigma_db: float
    packet_sigma_db: float
    attenuation_at_1m_db: float
    calibration_sigma_low_db: float
    ios_tx_power_dbm: float
    correlation_length_m: float
    body_loss_db: float
    body_factor: dict[str, float]
    phone_side_deg: dict[str, float]
    carriage_loss_db: dict[str, float]
    wall_loss_db: float
    herald_bins: tuple[BinError, ...]
    herald_calibrated_bins: tuple[BinError, ...]
    mitll_errors: tuple[BinError, ...]
    pairs: int
    positions: int

    def scenario_values(self) -> dict[str, Any]:
        """The scenario keys set from this fit, as TOML values (rounded as in the defaults)."""
        values: dict[str, Any] = {
            "radio.attenuation_at_1m": f"{self.attenuation_at_1m_db:.1f} dB",
            "radio.undulation_sigma": f"{self.undulation_sigma_db:.1f} dB",
            "radio.packet_sigma": f"{self.packet_sigma_db:.1f} dB",
            "radio.body_loss": f"{self.body_loss_db:.1f} dB",
            "radio.calibration_sigma_low": f"{self.calibration_sigma_low_db:.1f} dB",
            "radio.ios_tx_power": f"{self.ios_tx_power_dbm:.0f} dBm",
            "radio.environments.home.slope_near": round(self.slope_near, 2),
            "radio.environments.indoor.slope_near": round(self.slope_near, 2),
        }
        for environment in ("home", "indoor", "vehicle", "outdoor"):
            source = "indoor" if environment == "home" else environment
            values[f"radio.environments.{environment}.body_factor"] = round(
                self.body_factor[source], 2
            )
        for carriage, loss in self.carriage_loss_db.items():
            values[f"radio.carriage.{carriage}.loss"] = f"{loss:.1f} dB"
        return values


def fit_radio(directory: Path | None = None) -> RadioFit:
    """Fit the channel to the Herald and MIT-LL summaries in `directory` (default: packaged).

    Raises:
        OSError: a data file is missing.
        ValueError: a data file does not have the expected columns.
    """
    root = directory or data_dir()
    herald = _read_csv(root / "herald-rssi-vs-distance" / "summary_by_distance.csv")
    calibration = {
        row["herald_phone"]: row for row in _read_csv(root / "herald-phone-calibration.csv")
    }
    mitll = _read_csv(root / "mitll-ble-static-6ft" / "iphone_rx_summary.csv")
    near = _fit_herald(herald, calibration)
    body = _fit_mitll(mitll)
    return RadioFit(**near, **body)


def herald_calibrated_attenuation(
    directory: Path | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Distance (m) and calibrated attenuation (dB) of every Herald position of an Android
    pair: tx_sender − (median RSSI + correction_receiver), as GAEN would compute (for plots)."""
    root = directory or data_dir()
    calibration = {
        row["herald_phone"]: row for row in _read_csv(root / "herald-phone-calibration.csv")
    }
    distance, attenuation = [], []
    for row in _read_csv(root / "herald-rssi-vs-distance" / "summary_by_distance.csv"):
        metres = float(row["distance_cm"]) / 100
        sender, receiver = (
            calibration.get(row["transmitter_phone"]),
            calibration.get(row["receiver_phone"]),
        )
        if sender and receiver and HERALD_RANGE_M[0] <= metres <= HERALD_RANGE_M[1]:
            distance.append(metres)
            rssi = float(row["median_rssi_dbm"])
            attenuation.append(float(sender["tx"]) - (rssi + float(receiver["rssi correction"])))
    return np.array(distance), np.array(attenuation)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _fit_herald(
    rows: list[dict[str, str]], calibration: dict[str, dict[str, str]]
) -> dict[str, Any]:
    files: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        distance = float(row["distance_cm"]) / 100
        if HERALD_RANGE_M[0] <= distance <= HERALD_RANGE_M[1]:
            files[row["source_file"]].append(row)
    names = sorted(files)
    x_all: list[FloatArray] = []
    y_all: list[FloatArray] = []
    sd_all: list[FloatArray] = []
    distance_all: list[FloatArray] = []
    file_index: list[npt.NDArray[np.int64]] = []
    for index, name in enumerate(names):
        metres = np.array([float(r["distance_cm"]) / 100 for r in files[name]])
        x_all.append(-10 * np.log10(metres))
        y_all.append(np.array([float(r["median_rssi_dbm"]) for r in files[name]]))
        sd_all.append(np.array([float(r["sd_rssi_db"]) for r in files[name]]))
        file_index.append(np.full(len(metres), index, dtype=np.int64))
        distance_all.append(metres)
    x, y, which = np.concatenate(x_all), np.concatenate(y_all), np.concatenate(file_index)
    weight = 1.0 / np.bincount(which)[which]  # every pair counts equally
    x_mean = np.bincount(which, weights=weight * x) / np.bincount(which, weights=weight)
    y_mean = np.bincount(which, weights=weight * y) / np.bincount(which, weights=weight)
    xc, yc = x - x_mean[which], y - y_mean[which]
    slope = float(np.sum(weight * xc * yc) / np.sum(weight * xc * xc))
    intercept = y_mean - slope * x_mean  # median RSSI at 1 m per pair
    residual = y - (intercept[which] + slope * x)
    per_pair_slope = [float(np.polyfit(xs, ys, 1)[0]) for xs, ys in zip(x_all, y_all, strict=True)]
    undulation = float(np.median([np.std(residual[which == i]) for i in range(len(names))]))
    packet = float(np.median(np.concatenate(sd_all)))
    receiver = [files[n][0]["receiver_phone"] for n in names]
    sender = [files[n][0]["transmitter_phone"] for n in names]
    android = [
        i for i in range(len(names)) if receiver[i] in calibration and sender[i] in calibration
    ]
    at_1m = np.array(
        [
            float(calibration[sender[i]]["tx"])
            - (intercept[i] + float(calibration[receiver[i]]["rssi correction"]))
            for i in android
        ]
    )
    attenuation_1m = float(np.median(at_1m))
    iphones = [
        i
        for i in range(len(names))
        if receiver[i] in HERALD_IPHONES and sender[i] in HERALD_IPHONES
    ]
    ios_tx = attenuation_1m + float(np.median(intercept[iphones]))
    distances = np.concatenate(distance_all)
    bins = _bins(distances, residual)
    calibrated_error = []
    calibrated_distance = []
    for i in android:
        rows_i = which == i
        tx = float(calibration[sender[i]]["tx"])
        correction = float(calibration[receiver[i]]["rssi correction"])
        observed = tx - (y[rows_i] + correction)
        predicted = attenuation_1m + slope * 10 * np.log10(distances[rows_i])
        calibrated_error.append(observed - predicted)
        calibrated_distance.append(distances[rows_i])
    return {
        "slope_near": slope,
        "slope_per_pair_median": float(np.median(per_pair_slope)),
        "slope_per_pair_iqr": (
            float(np.percentile(per_pair_slope, 25)),
            float(np.percentile(per_pair_slope, 75)),
        ),
        "undulation_sigma_db": undulation,
        "packet_sigma_db": packet,
        "attenuation_at_1m_db": attenuation_1m,
        "calibration_sigma_low_db": float(np.std(at_1m, ddof=1) / math.sqrt(2)),
        "ios_tx_power_dbm": ios_tx,
        "correlation_length_m": _correlation_length(distances, residual, which),
        "herald_bins": bins,
        "herald_calibrated_bins": _bins(
            np.concatenate(calibrated_distance), np.concatenate(calibrated_error)
        ),
        "pairs": len(names),
        "positions": len(y),
    }


def _bins(
    distance: npt.NDArray[np.float64], error: npt.NDArray[np.float64]
) -> tuple[BinError, ...]:
    out = []
    for low, high in itertools.pairwise(DISTANCE_BINS_M):
        inside = (distance >= low) & (
            (distance < high) | (high == DISTANCE_BINS_M[-1]) & (distance <= high)
        )
        out.append(BinError.of(f"{low:g}–{high:g} m", error[inside]))
    out.append(BinError.of("all", error))
    return tuple(out)


def _correlation_length(
    distance: npt.NDArray[np.float64],
    residual: npt.NDArray[np.float64],
    which: npt.NDArray[np.int64],
) -> float:
    """Lag (m) where the residuals' autocorrelation first drops below 1/e, over 1-cm files."""
    lags = np.arange(1, 61)  # cm
    sums = np.zeros(len(lags))
    counts = np.zeros(len(lags))
    for i in np.unique(which):
        d = np.rint(distance[which == i] * 100).astype(int)
        r = residual[which == i]
        if len(d) < 100 or np.median(np.diff(np.sort(d))) != 1:
            continue
        series = np.full(d.max() + 1, np.nan)
        series[d] = (r - r.mean()) / r.std()
        for k, lag in enumerate(lags):
            product = series[:-lag] * series[lag:]
            sums[k] += np.nansum(product)
            counts[k] += np.count_nonzero(~np.isnan(product))
    correlation = sums / np.maximum(counts, 1)
    below = np.flatnonzero(correlation < math.exp(-1))
    return float(lags[below[0]] / 100) if len(below) else math.nan


def _fit_mitll(rows: list[dict[str, str]]) -> dict[str, Any]:
    cells: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        cells[(row["environment"], row["tx_phone_location"])].append(
            (math.radians(float(row["user_rotation_deg"])), float(row["median_rssi_dbm"]))
        )
    anechoic = {loc: v for (env, loc), v in cells.items() if env == "Anechoic Chamber"}
    side_grid = np.radians(np.arange(0, 360, 15))
    # φ per carriage and B for the anechoic chamber: grid over φ, least squares for B and levels.
    sides: dict[str, float] = {}
    for location, points in anechoic.items():
        errors = []
        for side in side_grid:
            theta, level = np.array(points).T
            shape = (1 - np.cos(theta - side)) / 2
            fit = np.polyfit(shape, level, 1)
            if fit[0] <= 0:  # the body can only lower the signal: B ≥ 0
                errors.append((float(np.sum((np.polyval(fit, shape) - level) ** 2)), side))
        sides[location] = min(errors)[1]
    body, _, residuals = _fit_levels(cells, sides, "Anechoic Chamber")
    body_factor: dict[str, float] = {}
    environment_levels: dict[str, dict[str, float]] = {}
    mitll_errors = [BinError.of("anechoic chamber", residuals)]
    for environment, name in MITLL_ENVIRONMENTS.items():
        b, env_levels, env_residuals = _fit_levels(cells, sides, environment)
        body_factor[name] = b / body
        environment_levels[environment] = env_levels
        if name != "anechoic":
            mitll_errors.append(BinError.of(environment.lower(), env_residuals))
    _, wall_levels, wall_residuals = _fit_levels(cells, sides, "Conference Room Wall")
    mitll_errors.append(BinError.of("conference room wall", wall_residuals))
    wall = [environment_levels["Conference Room"][loc] - wall_levels[loc] for loc in wall_levels]
    carriage: dict[str, float] = {"front_pocket": 0.0}
    for environment in ("Anechoic Chamber", "Screen Room"):
        env_levels = environment_levels[environment]
        for location, name in MITLL_CARRIAGE.items():
            if name != "front_pocket":
                carriage.setdefault(name, 0.0)
                carriage[name] += (env_levels["front_pants_pocket_left"] - env_levels[location]) / 2
    return {
        "body_loss_db": body,
        "body_factor": body_factor,
        "phone_side_deg": {MITLL_CARRIAGE[loc]: math.degrees(side) for loc, side in sides.items()},
        "carriage_loss_db": carriage,
        "wall_loss_db": float(np.mean(wall)),
        "mitll_errors": tuple(mitll_errors),
    }


def _fit_levels(
    cells: dict[tuple[str, str], list[tuple[float, float]]],
    sides: dict[str, float],
    environment: str,
) -> tuple[float, dict[str, float], npt.NDArray[np.float64]]:
    """Common body loss B and one level per carriage for one environment (least squares)."""
    locations = sorted(loc for env, loc in cells if env == environment)
    shape_rows, level_rows, index_rows = [], [], []
    for index, location in enumerate(locations):
        theta, level = np.array(cells[(environment, location)]).T
        shape_rows.append((1 - np.cos(theta - sides[location])) / 2)
        level_rows.append(level)
        index_rows.append(np.full(len(level), index))
    shape, level, which = (
        np.concatenate(shape_rows),
        np.concatenate(level_rows),
        np.concatenate(index_rows),
    )
    design = np.zeros((len(level), len(locations) + 1))
    design[np.arange(len(level)), which] = 1.0
    design[:, -1] = -shape
    solution, *_ = np.linalg.lstsq(design, level, rcond=None)
    residuals = level - design @ solution
    return (
        float(solution[-1]),
        {loc: float(solution[i]) for i, loc in enumerate(locations)},
        residuals,
    )
