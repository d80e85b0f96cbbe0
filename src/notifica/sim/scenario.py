"""`Scenario`: every parameter of a simulation, frozen, with its unit and source.

A scenario is read from TOML (``scenarios/default.toml`` is packaged and lists every key with
its meaning, unit and source). A file needs to hold only the keys it changes; the rest keep
their defaults. Everything is checked while loading, before anything runs: an unknown key, a
value of the wrong type or unit, or an impossible value (a negative rate, a share above 1)
raises `ScenarioError` naming the dotted key.

    scenario = load_scenario("town.toml")
    scenario = scenario.with_values({"run.population": 5000, "adoption.overall": 0.3})
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from notifica.protocol import PROVINCES
from notifica.sim._params_contacts import ContactsParams
from notifica.sim._params_disease import AppParams, EpidemicParams, TestingParams
from notifica.sim._params_radio import RadioParams
from notifica.sim._params_world import AdoptionParams, PopulationParams, ScanningParams
from notifica.sim._schema import (
    Invalid,
    Section,
    dump_section,
    iter_params,
    param,
    parse_section,
    render_toml,
    table,
)
from notifica.sim.errors import ScenarioError

__all__ = [
    "MAX_SCENARIO_BYTES",
    "GroundTruthParams",
    "ParameterInfo",
    "RunParams",
    "Scenario",
    "default_scenario_text",
    "load_scenario",
]

#: A scenario file is a few kilobytes; refuse anything absurdly larger before parsing it.
MAX_SCENARIO_BYTES = 1_000_000

_HEADER = """notifica simulator scenario: every parameter with its meaning, unit and source.
Generated from notifica.sim.Scenario by `notifica sim scenario --defaults`; a scenario file
needs only the keys it changes. Sources: sim = docs/reference/simulation.md,
protocol = protocol.md, immuni = immuni-api.md (section numbers)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunParams(Section):
    """Size, length and randomness of a run."""

    seed: int = param(20201005, ge=0, source="issue 6", doc="same seed, same results")
    days: int = param(28, ge=1, le=366, source="issue 6: the 28-day demo", doc="days simulated")
    start_date: dt.date = param(  # noqa: RUF009 - param() returns a dataclasses.field
        dt.date(2020, 10, 5),
        source="a Monday of Immuni's busiest month (sim §4.3)",
        doc="first simulated day (UTC); weekdays follow from it",
    )
    population: int = param(
        5000, ge=2, le=50_000_000, source="issue 6: the demo town", doc="residents in all provinces"
    )
    provinces: tuple[tuple[str, float], ...] = param(
        (("BO", 1.0),),
        gt=0,
        le=1,
        source="Immuni province codes (data/italy-provinces)",
        doc="share of the residents in each province; provinces are shards",
    )
    initial_infections: int = param(
        10, ge=0, source="assumption", doc="residents infected on day 0 (split by province share)"
    )

    def check(self) -> None:
        codes = [code for code, _ in self.provinces]
        for code in codes:
            if code not in PROVINCES:
                message = f"unknown province code {code!r} (one of the 107 Immuni provinces)"
                raise Invalid(f"provinces.{code}", message)
        if len(set(codes)) != len(codes):
            raise Invalid("provinces", "a province is listed twice")
        total = sum(share for _, share in self.provinces)
        if abs(total - 1.0) > 1e-6:
            raise Invalid("provinces", f"shares must sum to 1, got {total:g}")
        if self.initial_infections > self.population:
            raise Invalid("initial_infections", "must not exceed the population")


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundTruthParams(Section):
    """What counts as a risky contact (sim §5.1): close enough for long enough in a day."""

    max_distance_m: float = param(
        2.0,
        unit="m",
        gt=0,
        le=100,
        source="ECDC/CDC close contact; GAEN apps (sim §5.1)",
        doc="within",
    )
    min_duration_s: float = param(
        900.0,
        unit="s",
        gt=0,
        le=86400,
        source="ECDC/CDC close contact (sim §5.1)",
        doc="for at least (cumulative per day)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario(Section):
    """All parameters of a simulation. Build with `load_scenario` or `Scenario.from_toml`."""

    run: RunParams = field(default_factory=RunParams, metadata=table("size and seed"))
    population: PopulationParams = field(
        default_factory=PopulationParams, metadata=table("residents")
    )
    adoption: AdoptionParams = field(
        default_factory=AdoptionParams, metadata=table("who has the app")
    )
    ground_truth: GroundTruthParams = field(
        default_factory=GroundTruthParams, metadata=table("risky contact")
    )
    contacts: ContactsParams = field(
        default_factory=ContactsParams, metadata=table("contact episodes")
    )
    scanning: ScanningParams = field(
        default_factory=ScanningParams, metadata=table("Bluetooth scanning")
    )
    radio: RadioParams = field(default_factory=RadioParams, metadata=table("radio channel"))
    epidemic: EpidemicParams = field(default_factory=EpidemicParams, metadata=table("disease"))
    testing: TestingParams = field(
        default_factory=TestingParams, metadata=table("testing and isolation")
    )
    app: AppParams = field(default_factory=AppParams, metadata=table("the app and its users"))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str | None = None) -> Scenario:
        """Build from parsed TOML; omitted keys keep their defaults.

        Raises:
            ScenarioError: naming the first key at fault.
        """
        try:
            scenario: Scenario = parse_section(cls, raw, "")
        except Invalid as exc:
            raise ScenarioError(exc.key, exc.message, source=source) from None
        return scenario

    @classmethod
    def from_toml(cls, text: str, *, source: str | None = None) -> Scenario:
        """Parse a scenario file's text.

        Raises:
            ScenarioError: invalid TOML, or any invalid key or value.
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError("", f"not valid TOML: {exc}", source=source) from None
        return cls.from_dict(raw, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The TOML values of every key (what `from_dict` reads back)."""
        return dump_section(self)

    def to_toml(self) -> str:
        """A complete, commented scenario file."""
        return render_toml(self, _HEADER)

    def with_values(self, values: Mapping[str, object]) -> Scenario:
        """A copy with some keys changed, given as dotted keys and TOML values.

        ``scenario.with_values({"run.population": 5000, "ground_truth.max_distance": "1.5 m"})``

        Raises:
            ScenarioError: an unknown key or an invalid value (checked as in a file).
        """
        raw = self.to_dict()
        for dotted, value in values.items():
            node = raw
            *parents, leaf = dotted.split(".")
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    raise ScenarioError(dotted, "unknown key")
                node = child
            if leaf not in node:
                raise ScenarioError(dotted, "unknown key")
            node[leaf] = value
        return Scenario.from_dict(raw)

    def describe(self) -> list[ParameterInfo]:
        """Every parameter with its value, unit, meaning and source (`notifica sim scenario`)."""
        flat = _flatten(self.to_dict())
        return [
            ParameterInfo(
                key=key,
                value=flat[key],
                unit=info.metadata.get("unit"),
                doc=info.metadata["doc"],
                source=info.metadata["source"],
            )
            for key, info in iter_params(Scenario)
        ]

    @property
    def n_days(self) -> int:
        """Days simulated (``run.days``)."""
        return self.run.days


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterInfo:
    """One scenario parameter as `Scenario.describe` lists it."""

    key: str
    value: Any
    unit: str | None
    doc: str
    source: str


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not (prefix.endswith("run") and key == "provinces"):
            out |= _flatten(value, dotted)
        else:
            out[dotted] = value
    return out


def default_scenario_text() -> str:
    """The packaged ``scenarios/default.toml``."""
    return resources.files("notifica.sim").joinpath("scenarios/default.toml").read_text("utf-8")


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a scenario file (or the packaged default) and check every value.

    Raises:
        ScenarioError: the file cannot be read, is not TOML, or holds an invalid key or value.
    """
    if path is None:
        return Scenario.from_toml(default_scenario_text(), source="default.toml")
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_SCENARIO_BYTES + 1)
        if len(data) > MAX_SCENARIO_BYTES:
            raise ScenarioError("", f"larger than {MAX_SCENARIO_BYTES} bytes", source=str(path))
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError("", f"cannot read the scenario file: {exc}", source=str(path)) from None
    return Scenario.from_toml(text, source=str(path))
