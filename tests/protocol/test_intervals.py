from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from notifica.protocol import (
    MAX_INTERVAL_NUMBER,
    date_of_interval,
    interval_number,
    interval_number_at,
    interval_start_unix_s,
    rolling_start,
)


def test_interval_number_matches_spec_example() -> None:
    # protocol.md §2: 2642976 × 600 = 1585785600 = 2020-04-02T00:00:00Z.
    assert interval_number(1585785600) == 2642976
    assert interval_number(1585785600 + 599) == 2642976
    assert interval_number(1585785600 + 600) == 2642977
    assert interval_start_unix_s(2642976) == 1585785600


def test_interval_number_at_ignores_the_local_timezone() -> None:
    utc = datetime(2020, 4, 2, tzinfo=UTC)
    rome = utc.astimezone(timezone(timedelta(hours=2)))
    assert interval_number_at(utc) == interval_number_at(rome) == 2642976


def test_interval_number_at_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        interval_number_at(datetime(2020, 4, 2))


@pytest.mark.parametrize("unix_s", [-1, (MAX_INTERVAL_NUMBER + 1) * 600])
def test_interval_number_rejects_out_of_range(unix_s: int) -> None:
    with pytest.raises(ValueError, match="range"):
        interval_number(unix_s)


def test_rolling_start_aligns_to_utc_midnight() -> None:
    assert rolling_start(2642976) == 2642976
    assert rolling_start(2642976 + 143) == 2642976
    assert rolling_start(2642976 + 144) == 2642976 + 144
    assert rolling_start(5) == 0


def test_date_of_interval_is_the_utc_day() -> None:
    assert date_of_interval(2642976) == date(2020, 4, 2)
    assert date_of_interval(2642976 - 1) == date(2020, 4, 1)
