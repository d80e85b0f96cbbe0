"""The population simulator: virtual phones through the real system, scored against ground truth.

Import from here; the modules behind are the simulator's parts (STYLE §6): `scenario`
(parameters), `population`, `contacts`, `scans`, `radio` (+ `radio_fit`), `epidemic`,
`ground_truth`, `metrics` / `notifications` (collectors) and `run` (shards and processes).
`docs/sim-design.md` explains how they fit together.
"""

from notifica.sim.contacts import DAY_S, ContactModel, DayContacts, Setting
from notifica.sim.devices import (
    CalibrationTableSampler,
    DeviceDraw,
    Devices,
    DeviceSampler,
    load_device_sampler,
)
from notifica.sim.epidemic import (
    COMPARTMENTS,
    DayOutcome,
    EpidemicModel,
    Infections,
    Reporters,
    TestReason,
    TestResults,
)
from notifica.sim.errors import CollectorStateError, ReportError, ScenarioError, SimError
from notifica.sim.ground_truth import PairDays, pair_days
from notifica.sim.metrics import (
    Collector,
    EpidemicCurves,
    GroundTruthCollector,
    RunContext,
    TrafficCollector,
    compare_with_baseline,
)
from notifica.sim.notifications import NotificationCollector, NotificationEvents
from notifica.sim.population import Population, build_population
from notifica.sim.radio import RadioChannel, ScanObservations
from notifica.sim.radio_fit import RadioFit, fit_radio
from notifica.sim.run import RunResult, Shard, ShardSpec, plan_shards, run_epidemic
from notifica.sim.scans import ScanSchedule, ScanSightings, scan_sightings
from notifica.sim.scenario import ParameterInfo, Scenario, default_scenario_text, load_scenario
from notifica.sim.seeds import Seeds

__all__ = [
    "COMPARTMENTS",
    "DAY_S",
    "CalibrationTableSampler",
    "Collector",
    "CollectorStateError",
    "ContactModel",
    "DayContacts",
    "DayOutcome",
    "DeviceDraw",
    "DeviceSampler",
    "Devices",
    "EpidemicCurves",
    "EpidemicModel",
    "GroundTruthCollector",
    "Infections",
    "NotificationCollector",
    "NotificationEvents",
    "PairDays",
    "ParameterInfo",
    "Population",
    "RadioChannel",
    "RadioFit",
    "ReportError",
    "Reporters",
    "RunContext",
    "RunResult",
    "ScanObservations",
    "ScanSchedule",
    "ScanSightings",
    "Scenario",
    "ScenarioError",
    "Seeds",
    "Setting",
    "Shard",
    "ShardSpec",
    "SimError",
    "TestReason",
    "TestResults",
    "TrafficCollector",
    "build_population",
    "compare_with_baseline",
    "default_scenario_text",
    "fit_radio",
    "load_device_sampler",
    "load_scenario",
    "pair_days",
    "plan_shards",
    "run_epidemic",
    "scan_sightings",
]
