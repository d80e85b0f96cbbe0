"""How many check-otp guesses an attacker gets per hour with the default rate limits on.

The attacker sends check-otp as fast as the server answers, on the simulated clock, from one
address and from each of several addresses (the limit is per client address, so a botnet
multiplies it). Limits use fixed one-minute windows, so every minute is alike: CI measures
``NOTIFICA_GUESSING_MINUTES`` (default 15) minutes and scales to the hour; set it to 60 to
measure a whole hour. A live, authorised code sent after the
limit is reached is refused with 429 too: the limit is checked before the code. Every guess
also carries a forged ``X-Forwarded-For`` entry in front of the one the proxy appended: only
the proxy's counts (notifica used to take the first entry, which gave a forger a fresh limit
per guess).

The figures feed RELIABILITY.md ("Code guessing"): the probability that guessing hits a live
code at Italy's peak is ``1 - (1 - L/N)^G`` with ``N = 25^9`` valid codes, ``L`` live codes on
average (2 000 uploads a day, each code alive 150 s) and ``G`` the guesses measured here.
Reproduce with ``NOTIFICA_GUESSING_MINUTES=60 pytest tests/reliability/test_code_guessing.py
-s -n 0``.
"""

from __future__ import annotations

import math
import os
import random
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend, NoSleep, client_address, forwarded_address
from tests.server._support import ingestion_headers, make_otp
from tests.server.conftest import BackendFactory, client_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CODES = 25**9
"""Valid Immuni codes: nine free symbols of 25, the tenth a check character."""
UPLOADS_PER_DAY = 2_000
"""Italy's peak (November 2020)."""
CODE_LIFE_S = 150
BODY = b'{"padding": ""}'
MINUTES = int(os.environ.get("NOTIFICA_GUESSING_MINUTES", "15"))


def _guess_headers(rng: random.Random, address: str) -> dict[str, str]:
    """A guess as the backend gets it: the proxy appended the attacker's real address to
    whatever ``X-Forwarded-For`` the attacker sent (a new forged address every time)."""
    headers = ingestion_headers(make_otp(rng))
    forged = f"198.18.{rng.randrange(256)}.{rng.randrange(256)}"
    headers["X-Forwarded-For"] = f"{forged}, {address}"
    return headers


async def _minute_of_guessing(
    client: httpx.AsyncClient,
    clock: SimClock,
    addresses: list[str],
    rng: random.Random,
    *,
    advance: bool = True,
) -> Counter[int]:
    """Each address guesses until refused, then 4 more times; the clock moves one minute."""
    statuses: Counter[int] = Counter()
    for address in addresses:
        refused_in_a_row = 0
        for _ in range(500):  # a broken limit ends the minute here instead of never
            if refused_in_a_row >= 5:
                break
            response = await client.post(
                "/v1/ingestion/check-otp", content=BODY, headers=_guess_headers(rng, address)
            )
            statuses[response.status_code] += 1
            refused_in_a_row = refused_in_a_row + 1 if response.status_code == 429 else 0
    if advance:
        clock.advance(60)
    return statuses


def _attacker_backend(backend_factory: BackendFactory) -> Backend:
    """Defaults for every limit; the proxy's X-Forwarded-For names the client."""
    return backend_factory(
        sleeper=NoSleep(),
        ingestion_rate_limit_per_minute=120,
        client_address_header="X-Forwarded-For",
        otp_ttl_s=3_600 * 2,  # the live code stays live through the measurement
    )


def _probability(guesses_per_hour: float) -> tuple[float, float]:
    live = UPLOADS_PER_DAY * CODE_LIFE_S / 86_400
    per_hour = -math.expm1(guesses_per_hour * math.log1p(-live / CODES))
    return live, per_hour


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_address_gets_the_limit_and_no_more_per_hour(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    backend = _attacker_backend(backend_factory)
    live = make_otp(random.Random(99))
    backend.authorise_otp(live, clock.now().date() - timedelta(days=1))
    rng = random.Random(1)
    total: Counter[int] = Counter()
    async with client_for(backend) as client:
        for minute in range(MINUTES):
            last = minute == MINUTES - 1
            total += await _minute_of_guessing(
                client, clock, ["198.51.100.23"], rng, advance=not last
            )
        refused = await client.post(
            "/v1/ingestion/check-otp", content=BODY, headers=_live_headers(live)
        )
    guesses = (total[401] + total[204]) * 60 / MINUTES
    live_codes, probability = _probability(guesses)
    print(
        f"\none address over {MINUTES} min: {guesses:.0f} guesses checked per hour, "
        f"{total[429]} refused with 429; "
        f"L = {live_codes:.3f} live codes; P(hit within an hour) = {probability:.3e}; "
        f"within a year = {-math.expm1(8766 * math.log1p(-probability)):.3e}"
    )
    assert guesses == 120 * 60
    assert total[204] == 0  # no guess hit a live code
    assert refused.status_code == 429  # the right code is refused too once limited
    assert probability < 1e-8


def _live_headers(otp: str) -> dict[str, str]:
    headers = ingestion_headers(otp)
    headers["X-Forwarded-For"] = "203.0.113.250, 198.51.100.23"
    return headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_many_addresses_multiply_the_guesses(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    backend = _attacker_backend(backend_factory)
    addresses = [f"203.0.113.{i}" for i in range(1, 4)]
    rng = random.Random(2)
    total: Counter[int] = Counter()
    async with client_for(backend) as client:
        for _ in range(max(1, MINUTES // 5)):
            total += await _minute_of_guessing(client, clock, addresses, rng)
    per_address_per_hour = (total[401] + total[204]) * 60 / max(1, MINUTES // 5) / len(addresses)
    _, probability = _probability(per_address_per_hour)
    print(
        f"\n{len(addresses)} addresses: {per_address_per_hour:.0f} guesses per address and hour; "
        f"P(hit within an hour) = {probability:.3e} per address, "
        f"{-math.expm1(10_000 * math.log1p(-probability)):.3e} for 10 000 addresses"
    )
    assert per_address_per_hour == 120 * 60


def test_the_client_address_is_the_one_the_trusted_proxies_appended() -> None:
    assert forwarded_address("198.51.100.23", hops=1) == "198.51.100.23"
    assert forwarded_address("6.6.6.6, 198.51.100.23", hops=1) == "198.51.100.23"
    assert forwarded_address("6.6.6.6, 198.51.100.23, 10.0.0.2", hops=2) == "198.51.100.23"
    assert forwarded_address(" 198.51.100.23 ,", hops=1) == "198.51.100.23"
    assert forwarded_address("10.0.0.2", hops=2) == "10.0.0.2"
    assert forwarded_address(" , ", hops=1) == ""


def test_the_proxy_header_names_the_client_only_where_one_is_configured() -> None:
    """The choice both the API's rate limit and the portal's back-off make (one function)."""
    forged = {"x-forwarded-for": "6.6.6.6, 198.51.100.23"}
    assert client_address(forged, "10.0.0.2", header=None, hops=1) == "10.0.0.2"
    assert client_address(forged, "10.0.0.2", header="X-Forwarded-For", hops=1) == "198.51.100.23"
    assert client_address({}, "10.0.0.2", header="X-Forwarded-For", hops=1) == "10.0.0.2"
