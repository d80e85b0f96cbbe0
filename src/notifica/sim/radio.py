"""The radio channel: what a phone's scan hears of a neighbour, in dB (sim §1.1, §2, §5.3).

For a scan of receiver r hearing sender s at distance d in environment e:

    loss          = L1m + 10·n_e·log10(d)                  (d ≤ breakpoint; slope_far beyond)
                  + body (each of the two bodies: B·f_e·(1 − cos θ)/2, θ uniform per episode)
                  + carriage(s) + carriage(r)               (per person per day)
                  + undulation ~ N(0, σ_u)                  (position-locked, redrawn per scan)
    packet loss   = loss + N(0, σ_p)                        (per advertisement)
    RSSI_measured = tx_s − packet loss − correction_r − ε_s − ε_r     (rounded to 1 dB)

so that the attenuation the receiving phone computes, tx_s − (RSSI + correction_r), is the true
loss plus both phones' residual calibration errors ε (sim §2, "Simulator recipe"). Packets below
the receiver's sensitivity or lost (``scanning.packet_loss``) are not heard.

The ``noiseless`` channel keeps only the median path loss: no body, carriage, undulation,
packet noise or calibration error, every packet heard, no rounding. Its attenuation is an exact,
non-decreasing function of distance — for sanity runs against the ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from notifica.sim._params_contacts import ENVIRONMENTS
from notifica.sim._params_radio import CARRIAGES, RadioParams
from notifica.sim._params_world import ScanningParams
from notifica.sim.contacts import DayContacts, Setting
from notifica.sim.devices import Devices
from notifica.sim.scans import ScanSightings
from notifica.sim.scenario import Scenario

__all__ = ["RadioChannel", "ScanObservations"]

#: Distances are clamped to at least this in the log-distance model (phones cannot overlap).
MIN_DISTANCE_M = 0.05
_CHUNK = 200_000


@dataclass(frozen=True, slots=True, eq=False)
class ScanObservations:
    """What receivers heard: one row per sighting with at least one packet received.

    ``sighting`` indexes the `ScanSightings` the observations came from. RSSI values are the
    raw readings (median and strongest of the scan's packets); attenuations are what GAEN
    computes from them (typical = median, minimum = from the strongest packet).
    """

    sighting: npt.NDArray[np.int64]
    packets: npt.NDArray[np.int16]
    rssi_dbm: npt.NDArray[np.float32]
    max_rssi_dbm: npt.NDArray[np.float32]
    typical_attenuation_db: npt.NDArray[np.float32]
    min_attenuation_db: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.sighting)


class RadioChannel:
    """The channel of one scenario (see the module docstring)."""

    def __init__(
        self, params: RadioParams, scanning: ScanningParams, setting_environments: Sequence[str]
    ) -> None:
        if len(setting_environments) != len(Setting):
            raise ValueError(f"need one environment per setting ({len(Setting)})")
        self.params = params
        self.scanning = scanning
        envs = [getattr(params.environments, name) for name in ENVIRONMENTS]
        index = [ENVIRONMENTS.index(name) for name in setting_environments]
        self._slope = np.array([envs[i].slope_near for i in index])
        self._body = np.array([envs[i].body_factor for i in index]) * params.body_loss_db
        carriages = [getattr(params.carriage, name) for name in CARRIAGES]
        self._carriage_share = np.array([c.share for c in carriages])
        self._carriage_loss = np.array([c.loss_db for c in carriages], dtype=np.float32)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> RadioChannel:
        """The channel with each setting in its scenario environment."""
        contacts = scenario.contacts
        environments = [getattr(contacts, s.label).environment for s in Setting]
        return cls(scenario.radio, scenario.scanning, environments)

    @property
    def noiseless(self) -> bool:
        """True for the exact, noise-free channel."""
        return self.params.channel == "noiseless"

    @property
    def packets_per_scan(self) -> int:
        """Advertisements a sender emits during one scan window."""
        return max(1, math.floor(self.scanning.window_s / self.scanning.advertising_interval_s))

    def median_attenuation_db(
        self, distance_m: npt.ArrayLike, setting: npt.ArrayLike
    ) -> npt.NDArray[np.float64]:
        """The path loss alone: log-distance with the setting's near slope, then `slope_far`."""
        p = self.params
        d = np.maximum(np.asarray(distance_m, dtype=np.float64), MIN_DISTANCE_M)
        slope = self._slope[np.asarray(setting, dtype=np.int64)]
        near = np.minimum(d, p.breakpoint_m)
        far = np.maximum(d / p.breakpoint_m, 1.0)
        return (
            p.attenuation_at_1m_db + 10 * slope * np.log10(near) + 10 * p.slope_far * np.log10(far)
        )

    def draw_carriage(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.int8]:
        """Where each of `n` people carries the phone today (index into `CARRIAGES`)."""
        return rng.choice(len(CARRIAGES), size=n, p=self._carriage_share).astype(np.int8)

    def episode_loss_db(
        self, rng: np.random.Generator, contacts: DayContacts, carriage: npt.NDArray[np.int8]
    ) -> npt.NDArray[np.float32]:
        """Body and carriage losses of each episode (0 on the noiseless channel)."""
        if self.noiseless:
            return np.zeros(len(contacts), dtype=np.float32)
        facing = (1 - np.cos(rng.uniform(0, 2 * np.pi, (2, len(contacts))))) / 2
        body = self._body[contacts.setting] * facing.sum(axis=0)
        worn = self._carriage_loss[carriage[contacts.a]] + self._carriage_loss[carriage[contacts.b]]
        loss: npt.NDArray[np.float32] = (body + worn).astype(np.float32)
        return loss

    def sample_attenuation_db(
        self, rng: np.random.Generator, distance_m: npt.ArrayLike, setting: Setting | int
    ) -> npt.NDArray[np.float64]:
        """What GAEN would compute for one scan at each distance, without building a day.

        Draws everything `observe` does — two bodies, two carriages, undulation, the median of
        a scan's packets, two residual calibration errors (iPhone share and confidence mix of
        the defaults are not modelled here: both phones get ``calibration_sigma_low``) — for
        plots and channel studies. On the noiseless channel it is the median path loss.
        """
        d = np.asarray(distance_m, dtype=np.float64)
        code = np.full(d.shape, int(setting))
        loss = self.median_attenuation_db(d, code)
        if self.noiseless:
            return loss
        p = self.params
        facing = (1 - np.cos(rng.uniform(0, 2 * np.pi, (2, *d.shape)))) / 2
        carriage = rng.choice(len(CARRIAGES), size=(2, *d.shape), p=self._carriage_share)
        loss = (
            loss + self._body[code] * facing.sum(axis=0) + self._carriage_loss[carriage].sum(axis=0)
        )
        loss = loss + rng.normal(0.0, p.undulation_sigma_db, d.shape)
        packets = rng.normal(0.0, p.packet_sigma_db, (*d.shape, self.packets_per_scan))
        loss = loss + np.median(packets, axis=-1)
        drawn: npt.NDArray[np.float64] = loss + rng.normal(
            0.0, p.calibration_sigma_low_db * math.sqrt(2), d.shape
        )
        return drawn

    def observe(
        self,
        rng: np.random.Generator,
        sightings: ScanSightings,
        contacts: DayContacts,
        devices: Devices,
        episode_loss_db: npt.NDArray[np.float32],
    ) -> ScanObservations:
        """Draw the packets of every sighting and keep those heard.

        Args:
            rng: the day's ``"radio"`` stream.
            sightings: from `scan_sightings` for these `contacts`.
            contacts: the day's episodes.
            devices: the population's phones (TX power, correction, residual error).
            episode_loss_db: from `episode_loss_db` for these `contacts`.
        """
        parts = [
            self._observe_chunk(rng, sightings, contacts, devices, episode_loss_db, start)
            for start in range(0, len(sightings), _CHUNK)
        ]
        if not parts:
            empty = np.zeros(0, dtype=np.float32)
            return ScanObservations(
                np.zeros(0, np.int64), np.zeros(0, np.int16), empty, empty, empty, empty
            )
        return ScanObservations(*(np.concatenate(column) for column in zip(*parts, strict=True)))

    def _observe_chunk(
        self,
        rng: np.random.Generator,
        sightings: ScanSightings,
        contacts: DayContacts,
        devices: Devices,
        episode_loss_db: npt.NDArray[np.float32],
        start: int,
    ) -> tuple[npt.NDArray[Any], ...]:
        p = self.params
        rows = np.arange(start, min(start + _CHUNK, len(sightings)))
        episode = sightings.episode[rows]
        sender, receiver = sightings.sender[rows], sightings.receiver[rows]
        loss = self.median_attenuation_db(contacts.distance_m[episode], contacts.setting[episode])
        tx = devices.tx_power_dbm[sender].astype(np.float64)
        correction = devices.rssi_correction_db[receiver].astype(np.float64)
        slots = self.packets_per_scan
        if self.noiseless:
            rssi = np.repeat((tx - loss - correction)[:, None], slots, axis=1)
            heard = np.ones(rssi.shape, dtype=bool)
        else:
            loss = (
                loss + episode_loss_db[episode] + rng.normal(0.0, p.undulation_sigma_db, len(rows))
            )
            errors = devices.calibration_error_db[sender] + devices.calibration_error_db[receiver]
            packet = loss[:, None] + rng.normal(0.0, p.packet_sigma_db, (len(rows), slots))
            rssi = np.rint(tx[:, None] - packet - correction[:, None] - errors[:, None])
            heard = (rng.random(rssi.shape) >= self.scanning.packet_loss) & (
                rssi >= p.receiver_sensitivity_dbm
            )
        count = heard.sum(axis=1)
        seen = count > 0
        ordered = np.sort(np.where(heard, rssi, np.inf)[seen], axis=1)  # unheard packets last
        n, line = count[seen], np.arange(int(seen.sum()))
        typical = (ordered[line, (n - 1) // 2] + ordered[line, n // 2]) / 2
        strongest = ordered[line, n - 1]
        attenuation = tx[seen] - (typical + correction[seen])
        min_attenuation = tx[seen] - (strongest + correction[seen])
        return (
            rows[seen].astype(np.int64),
            count[seen].astype(np.int16),
            typical.astype(np.float32),
            strongest.astype(np.float32),
            attenuation.astype(np.float32),
            min_attenuation.astype(np.float32),
        )
