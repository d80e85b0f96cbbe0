"""What one simulated day produced: columnar value types returned by `EpidemicModel.step`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from notifica.sim.contacts import DayContacts

__all__ = ["COMPARTMENTS", "DayOutcome", "Infections", "Reporters", "TestReason", "TestResults"]

#: Compartments counted every day (`DayOutcome.counts`).
COMPARTMENTS = (
    "susceptible",
    "exposed",
    "presymptomatic",
    "symptomatic",
    "asymptomatic",
    "recovered",
)

Ids = npt.NDArray[np.int32]
Seconds = npt.NDArray[np.float64]


class TestReason:
    """Why a test was taken (`TestResults.reason`)."""

    __test__ = False  # not a pytest test class

    SYMPTOMS = 0
    NOTIFIED = 1


@dataclass(frozen=True, slots=True, eq=False)
class Infections:
    """Transmission events: `infector` (-1 for an initial infection) infected `infectee`."""

    infectee: Ids
    infector: Ids
    time_s: Seconds  # simulation seconds since day 0, 00:00 UTC
    setting: npt.NDArray[np.int8]  # a `Setting`, -1 for an initial infection
    distance_m: npt.NDArray[np.float32]
    duration_s: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.infectee)


@dataclass(frozen=True, slots=True, eq=False)
class TestResults:
    """Test results returned on one day."""

    __test__ = False  # not a pytest test class

    person: Ids
    result_s: Seconds
    positive: npt.NDArray[np.bool_]
    reason: npt.NDArray[np.int8]  # `TestReason`

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True, slots=True, eq=False)
class Reporters:
    """Positive adopters who will upload their keys (flow 4 of SYSTEM.md).

    ``onset_s`` is the symptom onset (NaN without symptoms: Immuni then uses the test date);
    ``result_s`` is when the positive result arrived.
    """

    person: Ids
    result_s: Seconds
    onset_s: Seconds

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True, slots=True, eq=False)
class DayOutcome:
    """What happened on one simulated day."""

    day: int
    contacts: DayContacts
    infections: Infections
    test_results: TestResults
    reporters: Reporters
    counts: dict[str, int] = field(default_factory=dict)
