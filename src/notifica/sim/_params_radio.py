"""Scenario section for the radio channel (sim §1, §2, §5.3).

The defaults marked "fit" come from ``notifica sim fit-radio`` on the shipped Herald and MIT-LL
data; `docs/radio-fit.md` holds the fit report and a test keeps these numbers equal to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifica.sim._schema import Invalid, Section, param, table

__all__ = ["CARRIAGES", "CarriageParams", "EnvironmentParams", "RadioParams"]

#: Where a phone is carried, in the order of `RadioParams.carriage`.
CARRIAGES = ("front_pocket", "back_pocket", "bag", "hand")
_FIT = "fit on data/herald-rssi-vs-distance (docs/radio-fit.md)"
_FIT_MITLL = "fit on data/mitll-ble-static-6ft (docs/radio-fit.md)"
_PACT = "MIT-LL PACT phones.csv carriage states, 695 rows (sim §1.4)"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentParams(Section):
    """How one kind of place changes the channel."""

    slope_near: float = param(
        1.0, ge=0, le=6, source=_FIT, doc="path-loss exponent n up to the breakpoint"
    )
    body_factor: float = param(
        1.0, ge=0, le=2, source=_FIT_MITLL, doc="share of the anechoic body loss that remains"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CarriageParams(Section):
    """One way of carrying the phone."""

    share: float = param(
        0.25, ge=0, le=1, source=_PACT, doc="share of people carrying the phone this way"
    )
    loss_db: float = param(
        0.0, unit="dB", ge=-20, le=40, source=_FIT_MITLL, doc="loss relative to a front pocket"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Environments(Section):
    """The four radio environments; each contact setting names one."""

    home: EnvironmentParams = field(
        default_factory=lambda: EnvironmentParams(slope_near=0.96, body_factor=0.42),
        metadata=table("rooms at home (Herald slope; conference-room body effect)"),
    )
    indoor: EnvironmentParams = field(
        default_factory=lambda: EnvironmentParams(slope_near=0.96, body_factor=0.42),
        metadata=table("classrooms, offices, shops, restaurants"),
    )
    vehicle: EnvironmentParams = field(
        default_factory=lambda: EnvironmentParams(slope_near=0.5, body_factor=0.4),
        metadata=table(
            "buses and trams: metal, flat (sim §5.3 n ≈ 0.5-1; screen room body effect)"
        ),
    )
    outdoor: EnvironmentParams = field(
        default_factory=lambda: EnvironmentParams(slope_near=2.0, body_factor=1.0),
        metadata=table("streets and courtyards (free space n = 2; courtyard body effect)"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Carriages(Section):
    """How people carry their phones (shares must sum to 1)."""

    front_pocket: CarriageParams = field(
        default_factory=lambda: CarriageParams(share=0.711, loss_db=0.0),
        metadata=table("trouser, shirt or jacket front pocket (the reference)"),
    )
    back_pocket: CarriageParams = field(
        default_factory=lambda: CarriageParams(share=0.030, loss_db=2.1),
        metadata=table("back trouser pocket"),
    )
    bag: CarriageParams = field(
        default_factory=lambda: CarriageParams(share=0.151, loss_db=-1.2),
        metadata=table("bag or purse"),
    )
    hand: CarriageParams = field(
        default_factory=lambda: CarriageParams(share=0.108, loss_db=-0.6),
        metadata=table("in the hand, at the ear or on a table"),
    )

    def check(self) -> None:
        total = sum(getattr(self, name).share for name in CARRIAGES)
        if abs(total - 1.0) > 1e-6:
            raise Invalid("front_pocket.share", f"carriage shares must sum to 1, got {total:g}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RadioParams(Section):
    """Attenuation = path loss + body + carriage + undulation + packet noise + calibration error.

    ``channel = "noiseless"`` keeps only the median path loss: exact and monotonic in distance.
    """

    channel: str = param(
        "realistic", choices=("realistic", "noiseless"), source="issue 6", doc="radio channel model"
    )
    attenuation_at_1m_db: float = param(
        46.5, unit="dB", ge=0, le=120, source=_FIT, doc="median calibrated attenuation at 1 m"
    )
    breakpoint_m: float = param(
        3.4,
        unit="m",
        gt=0,
        le=100,
        source="end of the Herald range (sim §1.2.1)",
        doc="where the far slope starts",
    )
    slope_far: float = param(
        2.35,
        ge=0,
        le=6,
        source="CWA mapping 63 dB at 3 m, 73 dB at 8 m (sim §1.1)",
        doc="path-loss exponent past the breakpoint",
    )
    undulation_sigma_db: float = param(
        4.3, unit="dB", ge=0, le=30, source=_FIT, doc="position-locked multipath, redrawn per scan"
    )
    packet_sigma_db: float = param(
        2.1, unit="dB", ge=0, le=30, source=_FIT, doc="per-advertisement noise at a fixed position"
    )
    body_loss_db: float = param(
        14.7,
        unit="dB",
        ge=0,
        le=40,
        source=_FIT_MITLL,
        doc="loss with a body fully between the phones (anechoic)",
    )
    calibration_sigma_high_db: float = param(
        1.5,
        unit="dB",
        ge=0,
        le=20,
        source="sim §2 recipe: 1-2 dB for confidence-3 models",
        doc="residual error of an individually calibrated model",
    )
    calibration_sigma_low_db: float = param(
        2.8,
        unit="dB",
        ge=0,
        le=20,
        source=_FIT,
        doc="residual error of a model with family-average values",
    )
    calibration_sigma_ios_db: float = param(
        2.0,
        unit="dB",
        ge=0,
        le=20,
        source="assumption: iPhones differ ~5 dB raw at 2 m (sim §1.2.4), Apple calibrates",
        doc="residual error of an iPhone",
    )
    ios_tx_power_dbm: float = param(
        -8.0,
        unit="dBm",
        ge=-60,
        le=20,
        source=_FIT,
        doc="TX power an iPhone advertises (iPhone-iPhone RSSI at 1 m + attenuation at 1 m)",
    )
    receiver_sensitivity_dbm: float = param(
        -100.0,
        unit="dBm",
        ge=-130,
        le=-30,
        source="assumption: typical phone BLE receiver",
        doc="advertisements weaker than this are lost",
    )
    environments: Environments = field(
        default_factory=Environments, metadata=table("per environment")
    )
    carriage: Carriages = field(default_factory=Carriages, metadata=table("how phones are carried"))
