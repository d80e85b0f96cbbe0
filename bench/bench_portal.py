"""What the portal costs per request, against the backend's own API in the same run.

In process (httpx over ASGI, SQLite in a temporary directory, the default argon2id
parameters of RFC 9106: t=3, 64 MiB, p=4):

* authorising a code through the portal's form (session lookup, CSRF check, the portal's
  checks, the pending and settled audit lines, the backend call, the 303) against
  ``POST /v1/otp`` with a HIS key on the same backend;
* a sign-in (one argon2id verification, a new session) against rendering the sign-in page;
* the territories page with every province reporting for 14 days against the sign-in page.

    python bench/bench_portal.py [--quick]
"""

from __future__ import annotations

import asyncio
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from notifica.clock import SimClock
from notifica.portal import PortalSettings, Role, mount_portal, upgrade_portal
from notifica.protocol import OTP_ALPHABET, PROVINCES, otp_check_character
from notifica.server import Backend, NoSleep, Settings, create_app
from notifica.server.repository import OperationalInfoRecord

START = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def codes(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        first = "".join(rng.choice(OTP_ALPHABET) for _ in range(9))
        out.append(first + otp_check_character(first))
    return out


async def timed(
    label: str,
    action: Callable[[int], Awaitable[None]],
    n: int,
    setup: Callable[[int], Awaitable[None]] | None = None,
) -> float:
    samples = []
    for i in range(n):
        if setup is not None:
            await setup(i)
        started = time.perf_counter()
        await action(i)
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"  {label:<46} {median * 1000:8.2f} ms  (median of {n})")
    return median


def seed_territories(backend: Backend, today: date, rng: random.Random) -> None:
    for offset in range(1, 15):
        day = today - timedelta(days=offset)
        for code in PROVINCES:
            for _ in range(rng.randrange(0, 3)):
                backend.repository.analytics.add_operational_info(
                    OperationalInfoRecord(
                        platform="android",
                        province=code,
                        build=1,
                        exposure_permission=True,
                        bluetooth_active=True,
                        notification_permission=True,
                        exposure_notification=True,
                        last_risky_exposure_on=day,
                    ),
                    received_on=day,
                )


async def main(quick: bool) -> None:
    n = 20 if quick else 100
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, data_dir=Path(tmp), otp_rate_limit_per_minute=0)
        clock = SimClock(START)
        backend = Backend(settings, clock=clock, sleeper=NoSleep(), rng=rng)
        backend.upgrade()
        upgrade_portal(url)
        app = create_app(settings, backend=backend)
        portal = mount_portal(app, backend, PortalSettings()).state.portal
        portal.accounts.create(
            email="op@asl.example", role=Role.ADMIN, password=PASSWORD, actor=None
        )
        _, his_key = backend.his.add_client("bench")
        seed_territories(backend, START.date(), rng)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            form = {"email": "op@asl.example", "password": PASSWORD}

            async def fresh_form(_: int) -> None:
                client.cookies.clear()
                token = CSRF.search((await client.get("/portal/sign-in")).text)
                assert token
                form["csrf_token"] = token.group(1)

            async def sign_in(_: int) -> None:
                response = await client.post("/portal/sign-in", data=form)
                assert response.status_code == 303

            async def sign_in_page(_: int) -> None:
                assert (await client.get("/portal/sign-in")).status_code in (200, 303)

            print(f"portal benchmark: CPython {platform.python_version()}, {platform.machine()}")
            page = await timed("render the sign-in page (baseline)", sign_in_page, n)
            signing = await timed(
                "sign in (argon2id t=3 m=64MiB p=4)", sign_in, max(5, n // 10), fresh_form
            )
            authorise_token = CSRF.search((await client.get("/portal/authorise")).text)
            assert authorise_token
            portal_codes, api_codes = codes(n, rng), codes(n, rng)
            headers = {"Authorization": f"Bearer {his_key}"}

            async def api(i: int) -> None:
                body = {"otp": api_codes[i], "symptoms_started_on": "2020-06-12"}
                response = await client.post("/v1/otp", json=body, headers=headers)
                assert response.status_code == 204, response.text

            async def form_post(i: int) -> None:
                data = {
                    "csrf_token": authorise_token.group(1),
                    "code": portal_codes[i],
                    "onset": "2020-06-12",
                }
                response = await client.post("/portal/authorise", data=data)
                assert response.status_code == 303, response.text

            async def territories(_: int) -> None:
                assert (await client.get("/portal/territories")).status_code == 200

            api_s = await timed("POST /v1/otp (baseline)", api, n)
            portal_s = await timed("authorise through the portal's form", form_post, n)
            terr_s = await timed("territories page, 107 provinces x 14 days", territories, n)
        portal.close()
        backend.repository.close()
    print(f"  portal form / POST /v1/otp: x{portal_s / api_s:.1f}")
    print(f"  sign-in / sign-in page: x{signing / page:.0f}")
    print(f"  territories page / sign-in page: x{terr_s / page:.1f}")


if __name__ == "__main__":
    asyncio.run(main("--quick" in sys.argv))
