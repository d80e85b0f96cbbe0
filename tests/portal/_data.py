"""Deterministic history for the admin and territories pages (and their screenshots).

`seed_history` walks a backend's simulated clock through past days, authorising codes
through `Backend.authorise_otp`, uploading through the real API and publishing each day.
`seed_territories` stores operational-info reports per province as the analytics service
would after verifying them (the verification itself is the backend's business and tested
there).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import httpx

from notifica.clock import SimClock
from notifica.server import Backend
from notifica.server.repository import OperationalInfoRecord
from tests.server._support import ingestion_headers, make_otp, upload_body

TERRITORY_PLAN: dict[str, tuple[int, int]] = {
    # province: (notifications per day in the previous week, in the last week)
    "NA": (4, 9),
    "BO": (2, 6),
    "TO": (3, 7),
    "BA": (1, 4),
    "RM": (8, 7),
    "MI": (6, 6),
    "FI": (2, 2),
    "PA": (3, 2),
    "GE": (2, 3),
    "VE": (1, 1),
    "CA": (1, 2),
    "AO": (1, 1),
}
"""NA, BO, TO and BA rise clearly; the others hold steady or fall."""
_WEEKDAY_FACTOR = (1.0, 1.1, 1.0, 0.9, 1.0, 0.7, 0.6)
"""Fewer reports at weekends, as real analytics showed."""


def _record(province: str, notified: bool, day: date) -> OperationalInfoRecord:
    return OperationalInfoRecord(
        platform="ios",
        province=province,
        build=1,
        exposure_permission=True,
        bluetooth_active=True,
        notification_permission=True,
        exposure_notification=notified,
        last_risky_exposure_on=day - timedelta(days=2) if notified else None,
    )


def seed_territories(backend: Backend, *, today: date) -> int:
    """Reports for the 14 complete days before `today`; returns the notifications stored."""
    stored = 0
    for offset in range(14):
        day = today - timedelta(days=14 - offset)
        factor = _WEEKDAY_FACTOR[day.weekday()]
        for province, (previous, last) in TERRITORY_PLAN.items():
            per_day = round((previous if offset < 7 else last) * factor)
            for _ in range(per_day):
                backend.repository.analytics.add_operational_info(
                    _record(province, True, day), received_on=day
                )
            stored += per_day
    return stored


async def seed_history(
    backend: Backend, api: httpx.AsyncClient, clock: SimClock, *, days: int, rng: random.Random
) -> None:
    """`days` days of codes, uploads and daily batches, ending with the clock `days` later.

    Each day at 09:00 a few codes are authorised and most of them upload; at 23:00 the
    publisher runs. The history begins the day after the clock's date.
    """
    start = clock.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    for d in range(days):
        morning = start + timedelta(days=d, hours=9)
        clock.set(morning)
        codes = 3 + (d * 5) % 7
        for n in range(codes):
            otp = make_otp(rng)
            backend.authorise_otp(otp, morning.date() - timedelta(days=3))
            if n % 4 != 3:  # one in four citizens gives up before uploading
                response = await api.post(
                    "/v1/ingestion/upload",
                    content=upload_body(clock.now(), rng=rng),
                    headers=ingestion_headers(otp),
                )
                assert response.status_code == 204, response.text
        clock.set(start + timedelta(days=d, hours=23))
        backend.publish()
