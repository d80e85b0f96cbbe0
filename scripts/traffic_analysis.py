"""Traffic analysis: can an on-path observer tell the phones that uploaded keys from the rest?

    python scripts/traffic_analysis.py [--phones 1000] [--days 30] [--uploaders 0.1]
        [--dummy-wait default 43200 86400@8-20] [--json traffic.json]

For each ``--dummy-wait`` (the ``dummy_teks_average_opportunity_waiting_time`` the server
distributes, in seconds; ``default`` = Immuni's 60 days), a month of real `Phone` engines runs
against the real backend in process (SQLite, `SimClock`, the release schedule recorded rather
than slept) through `ObservingTransport`, which records what an on-path observer of the TLS
traffic sees per phone: when each request was sent, to which host (get / upload / analytics),
its size on the wire and the size and delay of its answer. Phones tick exactly when they are
next due, so dummy sequences, detections every 4 h and analytics follow the engine's own
schedules; a share of phones report positive on a random day between 08 and 20 h (the
operator authorises the OTP 1-4 min after the code is shown, the user checks it 5-60 s later
and uploads 5-30 s after that, within the OTP's 150 s).

The observer turns each phone's month into `FEATURES` (counts, bytes, timing, bursts of
ingestion requests) and trains a logistic regression (NumPy, Newton's method, L2); the AUC is
over out-of-fold scores of a stratified k-fold, with and without the dummy requests (the
"without" view drops the requests sent with ``Immuni-Dummy-Data: 1``, i.e. a deployment
without dummy traffic). Each feature's own AUC shows which one leaks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import heappop, heappush
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from cryptography import x509

from notifica.clock import SimClock
from notifica.phone import (
    DeviceCalibration,
    Endpoints,
    MemoryStore,
    Permissions,
    Phone,
    TestCaAttestation,
    make_test_attestation_ca,
    wire_size,
)
from notifica.phone._jobs import next_due  # when a phone next has work: event-driven ticks
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, JwsAttestationVerifier, RecordingSleeper, Settings, create_app
from notifica.server.signing import signature_info

START = datetime(2026, 3, 2, tzinfo=UTC)
DEVICE = DeviceCalibration(
    oem="Google",
    device="flame",
    model="Pixel 4",
    rssi_correction_db=0,
    tx_power_dbm=-30,
    calibration_confidence=3,
)
PERMISSIONS = Permissions(exposure_notifications=True, bluetooth=True, notifications=True)
HOSTS = ("get", "upload", "analytics")
BURST_GAP_S = 600.0
"""Ingestion requests closer than this belong to one burst (a sequence or a real report)."""
APK_DIGEST = "traffic-analysis"


@dataclass(slots=True)
class Request:
    """One request as the observer sees it, plus what only the experiment knows (`dummy`)."""

    t: float
    host: str
    up: int
    down: int
    delay: float
    dummy: bool


@dataclass
class Month:
    """Everything observed: per phone, its requests; which phones uploaded for real."""

    requests: list[list[Request]]
    uploaded: npt.NDArray[np.bool_]
    start: float
    extras: dict[str, Any] = field(default_factory=dict)


class ObservingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the app and records the observer's view for `phone`."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, clock: SimClock, sleeper: RecordingSleeper
    ) -> None:
        self.inner, self.clock, self.sleeper = inner, clock, sleeper
        self.log: list[list[Request]] = []
        self.phone = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        waits = len(self.sleeper.waits)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        path = request.url.path
        host = (
            "upload" if "/ingestion/" in path else "analytics" if "/analytics/" in path else "get"
        )
        head = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n\r\n")
        head += sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        self.log[self.phone].append(
            Request(
                t=self.clock.now().timestamp(),
                host=host,
                up=wire_size(request),
                down=head + len(body),
                delay=sum(self.sleeper.waits[waits:]),
                dummy=request.headers.get("Immuni-Dummy-Data") == "1",
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


async def simulate(
    *,
    phones: int,
    days: int,
    uploaders: float,
    dummy_wait: float | None,
    seed: int,
    work: Path,
    dummy_hours: tuple[float, float] | None = None,
) -> Month:
    """A month of `phones` against one in-process backend; see the module docstring."""
    rng = random.Random(seed)
    clock = SimClock(START)
    settings = Settings(data_dir=work, database_url=f"sqlite:///{work / 'server.db'}")
    signer = EcdsaSigner.from_pem(
        generate_signing_key_pem(), signature_info=signature_info(settings)
    )
    ca = make_test_attestation_ca(now=START - timedelta(days=1))
    verifier = JwsAttestationVerifier(
        roots=[x509.load_pem_x509_certificate(ca.ca_certificate_pem)],
        hostname="attest.android.com",
        package_name="it.ministerodellasalute.immuni",
        apk_digests=[APK_DIGEST],
        max_skew_s=600,
    )
    sleeper = RecordingSleeper()
    backend = Backend(
        settings,
        clock=clock,
        signer=signer,
        sleeper=sleeper,
        rng=random.Random(seed + 1),
        attestation=verifier,
    )
    backend.upgrade()
    overrides: dict[str, Any] = {}
    if dummy_wait is not None:
        overrides["dummy_teks_average_opportunity_waiting_time"] = dummy_wait
    if dummy_hours is not None:
        overrides["dummy_teks_start_hours_utc"] = list(dummy_hours)
    for platform, (name, value) in itertools.product(("android", "ios"), overrides.items()):
        backend.repository.app_settings.put(
            platform=platform, starting_build=1, name=name, value=value
        )
    app = create_app(settings, backend=backend)
    transport = ObservingTransport(httpx.ASGITransport(app=app), clock, sleeper)
    transport.log = [[] for _ in range(phones)]
    client = httpx.AsyncClient(transport=transport, base_url="http://immuni.test")
    keys = {
        (
            signer.signature_info.verification_key_id,
            signer.signature_info.verification_key_version,
        ): signer.public_key_pem()
    }
    fleet = []
    for i in range(phones):
        phone = Phone(
            clock=clock,
            store=MemoryStore(),
            device=DEVICE,
            http=client,
            endpoints=Endpoints.single("http://immuni.test"),
            public_keys=keys,
            rng=random.Random(seed * 1_000_003 + i),
            attestation=TestCaAttestation(ca, apk_certificate_digest=APK_DIGEST),
        )
        phone.onboard(age_confirmed=True, province="RM", permissions=PERMISSIONS)
        fleet.append(phone)
    start = START.timestamp()
    end = start + days * 86_400
    uploaded = np.zeros(phones, dtype=bool)
    uploaded[rng.sample(range(phones), round(uploaders * phones))] = True
    events: list[tuple[float, int, int, str]] = []
    order = 0
    for i in range(phones):
        heappush(events, (start + rng.uniform(0, 4 * 3600), order := order + 1, i, "tick"))
        if uploaded[i]:  # a test result is phoned through in office hours, 08-20 h
            day = rng.randrange(1, days - 1)
            at = start + day * 86_400 + rng.uniform(8 * 3600, 20 * 3600)
            heappush(events, (at, order := order + 1, i, "report"))
    for day in range(1, days + 1):
        heappush(events, (start + day * 86_400, order := order + 1, -1, "publish"))
    codes: dict[int, str] = {}
    while events:
        t, _, i, what = heappop(events)
        if t >= end:
            break
        clock.set(datetime.fromtimestamp(t, UTC))
        transport.phone = max(i, 0)
        if what == "publish":
            backend.publish()
        elif what == "tick":
            await fleet[i].tick()
            due = max(next_due(fleet[i].state, t), t + 1.0)
            heappush(events, (due, order := order + 1, i, "tick"))
        elif what == "report":
            codes[i] = fleet[i].report_positive().replace("-", "")
            heappush(events, (t + rng.uniform(60, 240), order := order + 1, i, "authorise"))
        elif what == "authorise":  # the operator types the code the user reads out
            onset = clock.now().date() - timedelta(days=rng.randrange(0, 5))
            backend.authorise_otp(codes[i], onset)
            heappush(events, (t + rng.uniform(5, 60), order := order + 1, i, "verify"))
        elif what == "verify":
            await fleet[i].verify_otp()
            heappush(events, (t + rng.uniform(5, 30), order := order + 1, i, "upload"))
        elif what == "upload":
            await fleet[i].upload_keys()
    await client.aclose()
    backend.repository.close()
    return Month(
        requests=transport.log,
        uploaded=uploaded,
        start=start,
        extras={"uploads_stored": int(uploaded.sum())},
    )


# -- the observer --------------------------------------------------------------------------------

FEATURES = (
    "requests",
    "bytes up",
    "bytes down",
    *(f"{h} requests" for h in HOSTS),
    *(f"{h} bytes up" for h in HOSTS),
    *(f"{h} bytes down" for h in HOSTS),
    "ingestion bursts",
    "largest ingestion burst",
    "shortest ingestion gap (log s)",
    "ingestion bursts at 08-20 h",
    "ingestion bursts at night",
    "ingestion answer delay mean",
    "get requests within 1 h after an ingestion burst",
    "analytics size mean",
)


def features(requests: Sequence[Request], *, with_dummy: bool) -> list[float]:
    """What the observer computes from one phone's month (see `FEATURES`)."""
    seen = [r for r in requests if with_dummy or not r.dummy]
    row = [float(len(seen)), float(sum(r.up for r in seen)), float(sum(r.down for r in seen))]
    for part in ("count", "up", "down"):
        for host in HOSTS:
            mine = [r for r in seen if r.host == host]
            row.append(
                float(
                    len(mine)
                    if part == "count"
                    else sum(r.up if part == "up" else r.down for r in mine)
                )
            )
    ingestion = sorted(r.t for r in seen if r.host == "upload")
    bursts: list[list[float]] = []
    for t in ingestion:
        if bursts and t - bursts[-1][-1] < BURST_GAP_S:
            bursts[-1].append(t)
        else:
            bursts.append([t])
    gaps = np.diff(ingestion)
    daytime = sum(1 for b in bursts if 8 <= (b[0] % 86_400) / 3600 < 20)
    delays = [r.delay for r in seen if r.host == "upload"]
    after = sum(1 for r in seen if r.host == "get" and any(0 < r.t - b[-1] <= 3600 for b in bursts))
    sizes = [r.up for r in seen if r.host == "analytics"]
    row += [
        float(len(bursts)),
        float(max((len(b) for b in bursts), default=0)),
        math.log10(float(gaps.min())) if len(gaps) else 7.0,
        float(daytime),
        float(len(bursts) - daytime),
        float(np.mean(delays)) if delays else 0.0,
        float(after),
        float(np.mean(sizes)) if sizes else 0.0,
    ]
    return row


def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_standard_error(value: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982)."""
    q1, q2 = value / (2 - value), 2 * value**2 / (1 + value)
    variance = (
        value * (1 - value) + (n_pos - 1) * (q1 - value**2) + (n_neg - 1) * (q2 - value**2)
    ) / (n_pos * n_neg)
    return math.sqrt(max(variance, 0.0))


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.bool_], *, l2: float = 1.0, iterations: int = 50
) -> npt.NDArray[np.float64]:
    """Weights (bias last) of an L2-regularised logistic regression, by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    target = y.astype(float)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -30, 30)))
        gradient = design.T @ (p - target) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def cross_validated_scores(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.bool_], *, folds: int, seed: int
) -> npt.NDArray[np.float64]:
    """Out-of-fold scores of a stratified k-fold (features log-scaled, standardised on the
    training folds only)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for label in (True, False):
        members = rng.permutation(np.flatnonzero(y == label))
        fold[members] = np.arange(len(members)) % folds
    logged = np.sign(x) * np.log1p(np.abs(x))
    scores = np.empty(len(y))
    for k in range(folds):
        train, test = fold != k, fold == k
        mean, std = logged[train].mean(axis=0), logged[train].std(axis=0)
        std[std == 0] = 1.0
        w = fit_logistic((logged[train] - mean) / std, y[train])
        scores[test] = np.hstack([(logged[test] - mean) / std, np.ones((test.sum(), 1))]) @ w
    return scores


def observe(month: Month, *, with_dummy: bool, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """The observer's held-out AUC and each feature's own AUC."""
    x = np.array([features(r, with_dummy=with_dummy) for r in month.requests], dtype=float)
    y = month.uploaded
    folds = min(folds, int(y.sum()), int((~y).sum()))
    value = auc(cross_validated_scores(x, y, folds=folds, seed=seed), y)
    per_feature = {name: auc(x[:, j], y) for j, name in enumerate(FEATURES)}
    return {
        "auc": value,
        "auc_se": auc_standard_error(value, int(y.sum()), int((~y).sum())),
        "feature_auc": dict(sorted(per_feature.items(), key=lambda kv: -abs(kv[1] - 0.5))),
        "requests_per_phone": float(
            np.mean([len([q for q in r if with_dummy or not q.dummy]) for r in month.requests])
        ),
        "ingestion_requests_per_phone": float(x[:, FEATURES.index("upload requests")].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--uploaders", type=float, default=0.1, help="share that uploads")
    parser.add_argument(
        "--dummy-wait",
        nargs="+",
        default=["default", "43200"],
        help="configurations: dummy_teks_average_opportunity_waiting_time in s or 'default',"
        " optionally @FROM-TO for dummy_teks_start_hours_utc (e.g. 86400@8-20)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    results = []
    for config in options.dummy_wait:
        wait, _, hours = config.partition("@")
        span = tuple(float(h) for h in hours.split("-")) if hours else None
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="notifica-traffic-") as work:
            month = asyncio.run(
                simulate(
                    phones=options.phones,
                    days=options.days,
                    uploaders=options.uploaders,
                    dummy_wait=None if wait == "default" else float(wait),
                    dummy_hours=(span[0], span[1]) if span else None,
                    seed=options.seed,
                    work=Path(work),
                )
            )
        row = {
            "dummy_teks_average_opportunity_waiting_time": wait,
            "dummy_teks_start_hours_utc": hours or None,
            "phones": options.phones,
            "uploaders": int(month.uploaded.sum()),
            "days": options.days,
            "seconds": round(time.perf_counter() - started, 1),
            "with_dummy": observe(month, with_dummy=True, seed=options.seed),
            "without_dummy": observe(month, with_dummy=False, seed=options.seed),
        }
        results.append(row)
        print(_summary(row), flush=True)
    if options.json:
        options.json.write_text(
            json.dumps({"command": " ".join(sys.argv), "runs": results}, indent=1)
        )


def _summary(row: dict[str, Any]) -> str:
    w, wo = row["with_dummy"], row["without_dummy"]
    lines = [
        f"dummy opportunity wait {row['dummy_teks_average_opportunity_waiting_time']}, "
        f"start hours {row['dummy_teks_start_hours_utc'] or 'any'}: "
        f"{row['phones']} phones, {row['uploaders']} uploaded, {row['days']} days "
        f"({row['seconds']} s)",
        f"  AUC with dummy traffic    {w['auc']:.3f} ± {w['auc_se']:.3f} "
        f"({w['requests_per_phone']:.0f} requests/phone, "
        f"{w['ingestion_requests_per_phone']:.2f} ingestion)",
        f"  AUC without dummy traffic {wo['auc']:.3f} ± {wo['auc_se']:.3f}",
        "  most telling features with dummy traffic (AUC alone): "
        + ", ".join(f"{k} {v:.2f}" for k, v in list(w["feature_auc"].items())[:4]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
