"""The App Configuration settings a phone acts on, with Immuni's in-app defaults.

immuni-api.md §8 lists the settings and the apps' fallback values, which apply whenever the
server leaves a setting out. Values are checked on arrival: a server that sends a negative
period or a probability of 3 is a bad answer (`BadServerResponse`), not a schedule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from notifica.phone.errors import BadServerResponse

__all__ = ["AppSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    """Settings the phone uses; defaults are the apps' fallbacks (immuni-api.md §8)."""

    exposure_detection_period: float = 14_400
    """Seconds between detections (4 h)."""
    risk_reminder_notification_period: float = 86_400
    """Seconds between reminders of an unacknowledged risk notification."""
    exposure_info_minimum_risk_score: int = 20
    """Threshold of the v1 rule (Android default; iOS used 12 from 2020-10-30)."""
    exposure_configuration: Mapping[str, Any] | None = None
    """GAEN v1 configuration as the server sent it (None: the rule's preset)."""
    operational_info_with_exposure_sampling_rate: float = 1.0
    operational_info_without_exposure_sampling_rate: float = 0.6
    dummy_analytics_waiting_time: float = 2_592_000
    """Mean of the exponential wait between dummy analytics (30 days)."""
    dummy_teks_average_opportunity_waiting_time: float = 5_184_000
    """Mean wait before a dummy-upload opportunity window opens (60 days)."""
    dummy_teks_window_duration: float = 1_209_600
    """Length of the opportunity window (14 days, iOS)."""
    dummy_teks_average_start_waiting_time: float = 15
    """Mean delay before a sequence starts inside the window (iOS)."""
    dummy_teks_average_request_waiting_time: float = 10
    """Mean gap between the requests of one sequence."""
    dummy_teks_request_probabilities: tuple[float, ...] = (0.95, 0.1)
    """p_T: probability of one more request after the (i+1)-th."""
    dummy_teks_start_hours_utc: tuple[float, float] | None = None
    """notifica's extension: the UTC hours [from, to) in which a dummy sequence may start, to
    match the hours real reports happen in (the operators' calls); a start that falls outside
    moves to a uniform time in the next such hours, which lengthens its cycle (by ~6 h on
    average for 08-20, i.e. ~20 % fewer sequences at a 1-day mean wait). None: any time, as
    Immuni. Without it an observer tells real reports by their hour (RELIABILITY.md,
    "Traffic analysis")."""
    teks_max_summary_count: int = 84
    teks_max_info_count: int = 600
    teks_packet_size: int = 110_000
    """Exact wire size of every ingestion request, headers included (immuni-api.md §6.1)."""
    minimum_build_version: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Every other setting, kept as sent."""

    def __post_init__(self) -> None:
        positive = (
            "exposure_detection_period",
            "risk_reminder_notification_period",
            "dummy_analytics_waiting_time",
            "dummy_teks_average_opportunity_waiting_time",
            "dummy_teks_window_duration",
            "dummy_teks_average_start_waiting_time",
            "dummy_teks_average_request_waiting_time",
        )
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"setting {name} must be a positive number, got {value!r}")
        for name in (
            "operational_info_with_exposure_sampling_rate",
            "operational_info_without_exposure_sampling_rate",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"setting {name} must be in 0..1, got {getattr(self, name)}")
        hours = self.dummy_teks_start_hours_utc
        if hours is not None and not (len(hours) == 2 and 0 <= hours[0] < hours[1] <= 24):
            raise ValueError(
                "setting dummy_teks_start_hours_utc must be [from, to], 0 ≤ from < to ≤ 24"
            )
        probabilities = self.dummy_teks_request_probabilities
        if not probabilities or not all(0 <= p <= 1 for p in probabilities):
            raise ValueError("setting dummy_teks_request_probabilities must be probabilities")
        if not 1_000 <= self.teks_packet_size <= 150_000:
            raise ValueError(
                f"setting teks_packet_size must be in 1000..150000, got {self.teks_packet_size}"
            )
        for name in ("teks_max_summary_count", "teks_max_info_count"):
            if getattr(self, name) < 0:
                raise ValueError(f"setting {name} must be ≥ 0")
        if not 0 <= self.exposure_info_minimum_risk_score <= 4096:
            raise ValueError("setting exposure_info_minimum_risk_score must be in 0..4096")

    @classmethod
    def from_immuni(cls, raw: Any) -> AppSettings:
        """Settings from the body of ``GET /v1/settings``; absent keys keep their defaults.

        Raises:
            BadServerResponse: naming the setting, if a value has the wrong type or range.
        """
        if not isinstance(raw, Mapping):
            raise BadServerResponse("settings: the body is not a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in known:
                continue
            if isinstance(value, bool) or value is None:
                raise BadServerResponse(f"settings: {name} has the wrong type ({value!r})")
            if name == "dummy_teks_start_hours_utc":
                if not isinstance(value, list) or not all(
                    isinstance(h, int | float) and not isinstance(h, bool) for h in value
                ):
                    raise BadServerResponse(f"settings: {name} must be a list of two numbers")
                value = tuple(float(h) for h in value)
            elif name == "dummy_teks_request_probabilities":
                if not isinstance(value, list) or not all(
                    isinstance(p, int | float) and not isinstance(p, bool) for p in value
                ):
                    raise BadServerResponse(f"settings: {name} must be a list of numbers")
                value = tuple(float(p) for p in value)
            elif name == "exposure_configuration":
                if not isinstance(value, Mapping):
                    raise BadServerResponse(f"settings: {name} must be an object")
            elif name.startswith("teks_") or name in (
                "exposure_info_minimum_risk_score",
                "minimum_build_version",
            ):
                if not isinstance(value, int):
                    raise BadServerResponse(f"settings: {name} must be an integer")
            elif not isinstance(value, int | float):
                raise BadServerResponse(f"settings: {name} must be a number")
            values[name] = value
        try:
            return cls(**values, extra={k: v for k, v in raw.items() if k not in known})
        except ValueError as exc:
            raise BadServerResponse(f"settings: {exc}") from exc
