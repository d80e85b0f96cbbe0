"""match_exports: whole files (anything with a key_batch) against one phone's sightings."""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass

from notifica.matching import Match, MatchBackend, MatchedKey, match_exports
from notifica.protocol import DiagnosisKeyBatch, TemporaryExposureKey, derive_rpik
from notifica.protocol import rolling_proximity_identifiers as rpis_of
from tests.matching.conftest import observations_of


@dataclass(frozen=True)
class _File:
    key_batch: DiagnosisKeyBatch


def test_matched_keys_carry_their_file_key_and_sightings(backend: MatchBackend) -> None:
    rng = random.Random(4)
    keys = [
        TemporaryExposureKey(
            key_data=rng.randbytes(16),
            rolling_start_interval_number=2_650_032,
            transmission_risk_level=k % 8,
        )
        for k in range(6)
    ]
    first = _File(DiagnosisKeyBatch.from_keys(keys[:3]))
    columns_only = DiagnosisKeyBatch.from_keys(keys[3:])
    second = _File(
        DiagnosisKeyBatch(
            key_data=columns_only.key_data,
            rolling_start_interval_numbers=columns_only.rolling_start_interval_numbers,
            rolling_periods=columns_only.rolling_periods,
        )
    )

    def rpi(k: int, j: int) -> bytes:
        return rpis_of(derive_rpik(keys[k].key_data), 2_650_032 + j, 1)[0]

    obs = observations_of(
        [(rpi(1, 5), 2_650_037), (rpi(4, 0), 2_650_032), (rpi(1, 6), 2_650_038), (rpi(2, 9), 0)]
    )
    found = match_exports([first, _File(DiagnosisKeyBatch.from_keys([])), second], obs, backend)
    assert found == [
        MatchedKey(
            file_index=0,
            key_index=1,
            key=keys[1],
            matches=(Match(1, 2_650_037, 0), Match(1, 2_650_038, 2)),
        ),
        MatchedKey(
            file_index=2,
            key_index=1,
            # Without key objects in the batch, the key is rebuilt from its columns.
            key=TemporaryExposureKey(
                key_data=keys[4].key_data, rolling_start_interval_number=2_650_032
            ),
            matches=(Match(1, 2_650_032, 1),),
        ),
    ]
    assert found[0].observation_indices == (0, 2)


def test_no_files_or_no_sightings_match_nothing(backend: MatchBackend) -> None:
    batch = DiagnosisKeyBatch.from_keys(
        [TemporaryExposureKey(key_data=bytes(16), rolling_start_interval_number=0)]
    )
    assert match_exports([], observations_of([(bytes(16), 0)]), backend) == []
    empty = observations_of([])
    assert empty.intervals == array("I")
    assert match_exports([_File(batch)], empty, backend) == []


def test_default_backend_is_used_when_none_is_given() -> None:
    tek = bytes(range(16))
    batch = DiagnosisKeyBatch.from_keys(
        [TemporaryExposureKey(key_data=tek, rolling_start_interval_number=144)]
    )
    obs = observations_of([(rpis_of(derive_rpik(tek), 150, 1)[0], 151)])
    [matched] = match_exports([_File(batch)], obs)
    assert matched.matches == (Match(0, 150, 0),)
