"""`notifica phone`: drive one phone engine against a running backend.

The phone lives in ``--state DIR``: ``phone.db`` (the encrypted store) and ``config.json``
(server URLs, trusted batch-signing keys, device model: nothing secret). The store's
passphrase comes from ``--passphrase`` / ``NOTIFICA_PHONE_PASSPHRASE``; without one, an OS
keyring is used where the optional ``keyring`` package has a backend.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from notifica.cli._output import console, emit, fail, user_errors
from notifica.clock import SystemClock
from notifica.phone import (
    CalibrationTable,
    Endpoints,
    KeyProvider,
    KeyringKeyProvider,
    OtpBackoff,
    Permissions,
    Phone,
    ScryptKeyProvider,
    SqliteStore,
    StoreError,
    UnauthorizedOtp,
    make_http_client,
)

app = typer.Typer(help="One phone engine, driven by hand against a backend.", no_args_is_help=True)

T = TypeVar("T")

STATE = typer.Option(Path("notifica-phone"), "--state", help="Directory of the phone's state.")
SERVER = typer.Option(None, "--server", help="One base URL for every Immuni service.")
SETTINGS_URL = typer.Option(None, "--settings-url", help="Base URL of settings and key batches.")
UPLOAD_URL = typer.Option(None, "--upload-url", help="Base URL of check-otp and upload.")
ANALYTICS_URL = typer.Option(None, "--analytics-url", help="Base URL of operational info.")
PASSPHRASE = typer.Option(
    None, "--passphrase", envvar="NOTIFICA_PHONE_PASSPHRASE", help="Passphrase of the store."
)
JSON = typer.Option(False, "--json", help="Print JSON.")
PUBLIC_KEY = typer.Option(
    [], "--public-key", help="Trusted batch key as KEY_ID:VERSION:PEM_FILE (repeatable)."
)
CA_FILE = typer.Option(None, "--ca-file", help="Pin TLS to this CA (PEM).")


def _config_path(state: Path) -> Path:
    return state / "config.json"


def _key_provider(passphrase: str | None) -> KeyProvider:
    if passphrase:
        return ScryptKeyProvider(passphrase)
    try:
        return KeyringKeyProvider.from_system()
    except StoreError:
        fail("no passphrase given (--passphrase or NOTIFICA_PHONE_PASSPHRASE) and no OS keyring")


def _endpoints(
    config: dict[str, Any],
    server: str | None,
    settings_url: str | None,
    upload_url: str | None,
    analytics_url: str | None,
) -> Endpoints:
    urls = dict(config.get("endpoints", {}))
    for name, value in (
        ("settings_url", settings_url or server),
        ("upload_url", upload_url or server),
        ("analytics_url", analytics_url or server),
    ):
        if value:
            urls[name] = value
    missing = [n for n in ("settings_url", "upload_url", "analytics_url") if not urls.get(n)]
    if missing:
        fail(f"no server URL for {', '.join(missing)}: give --server URL or one flag per host")
    try:
        return Endpoints(**urls)
    except ValueError as exc:
        fail(str(exc))


def _public_keys(config: dict[str, Any]) -> dict[tuple[str, str], bytes]:
    return {
        (entry["key_id"], entry["version"]): entry["pem"].encode()
        for entry in config.get("public_keys", [])
    }


def _run(
    state: Path,
    passphrase: str | None,
    endpoints: Endpoints,
    action: Callable[[Phone], Awaitable[T]],
    *,
    config: dict[str, Any],
) -> T:
    table = CalibrationTable.load_default()
    device = table.lookup(config.get("model", "Pixel 4"), oem=config.get("oem", "Google"))

    async def go() -> T:
        store = SqliteStore.open(state / "phone.db", _key_provider(passphrase))
        client = make_http_client(pinned_ca=config.get("ca_file"))
        phone = Phone(
            clock=SystemClock(),
            store=store,
            device=device,
            http=client,
            endpoints=endpoints,
            public_keys=_public_keys(config),
        )
        try:
            return await action(phone)
        finally:
            phone.close()
            await client.aclose()

    return asyncio.run(go())


def _load(state: Path) -> dict[str, Any]:
    path = _config_path(state)
    if not path.exists():
        fail(f"{state}: no phone here; run 'notifica phone init' first")
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        fail(f"{path}: not a phone configuration ({exc})")
    return config


@app.command("init")
def init(
    province: str = typer.Option(..., "--province", help="Two-letter province code, e.g. RM."),
    confirm_age: bool = typer.Option(
        False, "--confirm-age", help="Confirm the user is at least 14 years old."
    ),
    oem: str = typer.Option("Google", "--oem", help="Device maker (calibration table)."),
    model: str = typer.Option("Pixel 4", "--model", help="Device model (calibration table)."),
    public_key: list[str] = PUBLIC_KEY,
    ca_file: Path | None = CA_FILE,
    state: Path = STATE,
    server: str | None = SERVER,
    settings_url: str | None = SETTINGS_URL,
    upload_url: str | None = UPLOAD_URL,
    analytics_url: str | None = ANALYTICS_URL,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """Create the phone and complete onboarding (age, province, permissions)."""
    with user_errors():
        keys = []
        for spec in public_key:
            parts = spec.split(":", 2)
            if len(parts) != 3:
                fail(f"--public-key {spec!r}: expected KEY_ID:VERSION:PEM_FILE")
            pem = Path(parts[2]).read_text()
            if "PUBLIC KEY" not in pem:
                fail(f"--public-key {spec!r}: {parts[2]} is not a PEM public key")
            keys.append({"key_id": parts[0], "version": parts[1], "pem": pem})
        endpoints = _endpoints({}, server, settings_url, upload_url, analytics_url)
        state.mkdir(parents=True, exist_ok=True)
        config = {
            "endpoints": {
                "settings_url": endpoints.settings_url,
                "upload_url": endpoints.upload_url,
                "analytics_url": endpoints.analytics_url,
            },
            "public_keys": keys,
            "oem": oem,
            "model": model,
            "ca_file": str(ca_file) if ca_file else None,
        }

        async def onboard(phone: Phone) -> dict[str, Any]:
            phone.onboard(
                age_confirmed=confirm_age,
                province=province,
                permissions=Permissions(
                    exposure_notifications=True, bluetooth=True, notifications=True
                ),
            )
            return phone.status().to_json()

        result = _run(state, passphrase, endpoints, onboard, config=config)
        _config_path(state).write_text(json.dumps(config, indent=2))
        emit(result, as_json=as_json)


def _command(
    state: Path,
    passphrase: str | None,
    urls: tuple[str | None, str | None, str | None, str | None],
    action: Callable[[Phone], Awaitable[T]],
) -> T:
    config = _load(state)
    return _run(state, passphrase, _endpoints(config, *urls), action, config=config)


@app.command("status")
def status(
    state: Path = STATE,
    server: str | None = SERVER,
    settings_url: str | None = SETTINGS_URL,
    upload_url: str | None = UPLOAD_URL,
    analytics_url: str | None = ANALYTICS_URL,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """What the phone shows: service active or why not, risk status, last detection."""
    with user_errors():

        async def read(phone: Phone) -> dict[str, Any]:
            return phone.status().to_json()

        urls = (server, settings_url, upload_url, analytics_url)
        emit(_command(state, passphrase, urls, read), as_json=as_json)


@app.command("detect")
def detect(
    state: Path = STATE,
    server: str | None = SERVER,
    settings_url: str | None = SETTINGS_URL,
    upload_url: str | None = UPLOAD_URL,
    analytics_url: str | None = ANALYTICS_URL,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """Run an exposure detection now; exit 1 if the server could not be used."""
    with user_errors():

        async def run(phone: Phone) -> dict[str, Any]:
            return (await phone.detect()).to_json()

        urls = (server, settings_url, upload_url, analytics_url)
        report = _command(state, passphrase, urls, run)
        emit(report, as_json=as_json)
        if report["problems"] and not report["batches_processed"]:
            fail("; ".join(report["problems"]))


@app.command("advertise")
def advertise(
    state: Path = STATE,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """Print the 31-byte Bluetooth payload broadcast now, as hex."""
    with user_errors():

        async def current(phone: Phone) -> dict[str, Any]:
            rpi, aem = phone.current_identifiers()
            return {
                "payload": phone.current_advertisement().hex(),
                "rpi": rpi.hex(),
                "aem": aem.hex(),
            }

        data = _command(state, passphrase, (None, None, None, None), current)
        emit(data, as_json=as_json, render=lambda d: console.print(d["payload"]))


@app.command("sight")
def sight(
    payload: str = typer.Argument(..., help="The received advertisement, as hex."),
    rssi: int = typer.Option(..., "--rssi", min=-127, max=20, help="Measured RSSI in dBm."),
    state: Path = STATE,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """Record a received advertisement; exit 1 if it is not a valid one."""
    with user_errors():
        try:
            data = bytes.fromhex(payload)
        except ValueError:
            fail(f"payload {payload[:40]!r} is not hex")
        if len(data) > 64:
            fail(f"payload is {len(data)} bytes; an advertisement has at most 31")

        async def record(phone: Phone) -> dict[str, Any]:
            recorded = phone.on_advertisement(data, rssi)
            return {"recorded": recorded, "sightings_stored": phone.status().sightings_stored}

        result = _command(state, passphrase, (None, None, None, None), record)
        emit(result, as_json=as_json)
        if not result["recorded"]:
            fail("not an Exposure Notification advertisement (ignored and counted)")


@app.command("report-positive")
def report_positive(
    timeout: float = typer.Option(
        600.0, "--timeout", min=1, help="Seconds to wait for the operator."
    ),
    state: Path = STATE,
    server: str | None = SERVER,
    settings_url: str | None = SETTINGS_URL,
    upload_url: str | None = UPLOAD_URL,
    analytics_url: str | None = ANALYTICS_URL,
    passphrase: str | None = PASSPHRASE,
    as_json: bool = JSON,
) -> None:
    """Show a fresh OTP, wait until the operator authorises it, then upload the keys.

    With --json two objects are printed, one per line: the OTP, then the outcome.
    """
    with user_errors():

        async def report(phone: Phone) -> dict[str, Any]:
            otp = phone.report_positive()
            emit(
                {"otp": otp},
                as_json=as_json,
                render=lambda d: console.print(
                    f"Read this code to the health operator: [bold]{d['otp']}[/bold]"
                ),
            )
            clock = SystemClock()
            deadline = clock.monotonic() + timeout
            while True:
                try:
                    await phone.verify_otp()
                    break
                except (UnauthorizedOtp, OtpBackoff):
                    wait = phone.otp_retry_after_s()
                    if clock.monotonic() + wait > deadline:
                        phone.cancel_report()
                        fail(f"the OTP {otp} was not authorised within {timeout:g} s")
                    await asyncio.sleep(wait)
            await phone.upload_keys()
            return {"uploaded": True, "status": phone.status().covid_status}

        urls = (server, settings_url, upload_url, analytics_url)
        emit(_command(state, passphrase, urls, report), as_json=as_json)
