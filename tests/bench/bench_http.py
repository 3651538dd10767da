"""Hot read paths over HTTP: each endpoint against bare uvicorn, measured with wrk in one run.

A port-shifted local fleet (supervisord, embedded PostgreSQL/Redis/Kafka, Nginx) runs the deploy
catalog's services that the endpoints below need, plus the baseline: a bare FastAPI hello-world
under uvicorn (``baseline_app.py``), same interpreter, one worker. The gateway uses the bench
profile (:func:`cp_fleet.nginx_config.bench_profile`: rate limits lifted). Each endpoint is loaded
with wrk at 64 and 256 connections, through the gateway and on the service's own port; the
baseline is measured the same two ways, before and after the endpoints. Figures: req/s, p50, p99,
non-2xx answers and socket errors, and the throughput ratio to the baseline (the mean of its two
measurements) on its own port (the strict comparison) and through the gateway; the machine's
load average at the start and the end; a one-line summary per run.

The layer endpoints answer with data: the bench activates a Layer 1 model (fitted on the
simulated market; the service's refresh then analyses the latest day) and stores two pages of
active Layer 4 signals. An endpoint must answer 200 with data before it is loaded
(:attr:`Endpoint.has_data`), else it is reported as skipped with the answer it gave.

Each figure is the median of ``BENCH_HTTP_RUNS`` runs (3) of ``BENCH_HTTP_SECONDS`` (5 s); the
p99 of every run is reported too. On this kind of machine one run in several has a p99 of a
second or more, the bare baseline's included (TCP retransmissions on a saturated loopback), so
a single run's p99 says little.

wrk runs one thread (``-t1``). With two threads on a 2-core machine, the load generator took
the core the server needed: the bare baseline measured the same req/s, but its p99 at 256
connections was 1.5-2.2 s with two threads against 42-45 ms with one, i.e. wrk's own
scheduling, not the server's.

Add an endpoint with one :data:`ENDPOINTS` entry; entries whose service is not in the deploy
catalog yet are reported as skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import layer1_macro_service
import layer4_timing_service
from cp_common.db.pool import close_pool, create_pool
from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet, FleetError
from cp_fleet.layout import DEFAULT_CATALOG
from cp_fleet.nginx_config import bench_profile
from cp_layer_kit.testing import register_active, simulated_market
from cp_models.config import CascadeConfig
from cp_models.datasets import build_datasets
from cp_models.layers.l1_macro import MacroRegimeModel
from cp_testing.fleets import catalog_ports, port_free
from layer4_timing_service.storage import signals as signal_store
from layer4_timing_service.storage.signals import NewSignal, Vote
from layer4_timing_service.testing import new_signal


def _hello(body: Any) -> bool:
    return bool(body == {"hello": "world"})


def _has_candles(body: Any) -> bool:
    return bool(body["data"]["candles"])


def _has_email(body: Any) -> bool:
    return bool(body["data"]["email"])


def _has_regime(body: Any) -> bool:
    return body["data"]["regime"] != "unknown" and body["data"]["analysis_id"] is not None


def _has_signals(body: Any) -> bool:
    return len(body["data"]["signals"]) == SIGNALS_PAGE


@dataclass(frozen=True)
class Endpoint:
    name: str
    service: str  # the catalog name of the service answering it
    path: str
    #: What the answer must show before the load starts (a bench of empty answers
    #: measures nothing): candles, the user, a real analysis, a full page of signals.
    has_data: Callable[[Any], bool]
    bearer: bool = False  # needs an access token (a fresh casual user)


SIGNALS_PAGE = 20  # the listing's default page size
ENDPOINTS = (
    Endpoint("candles", "ingestion", "/api/v1/market/candles/BTC?interval=1d&limit=30", _has_candles),
    Endpoint("me", "auth", "/api/v1/auth/me", _has_email, bearer=True),
    Endpoint(
        "layer1/market-regime", "layer1-macro", "/api/v1/layer1/market-regime", _has_regime, bearer=True
    ),
    Endpoint("layer4/signals", "layer4-timing", "/api/v1/layer4/signals", _has_signals, bearer=True),
)
CONNECTIONS = (64, 256)
BASELINE = "baseline"
BASELINE_PATH = "/bench/hello"
BASELINE_PORT = 8119
BASELINE_ENDPOINT = Endpoint(BASELINE, BASELINE, BASELINE_PATH, _hello)
TARGET_RATIO = 0.40
TARGET_P99_MS = 50.0
PASSWORD = "Bench-Http-2024!"
#: How long an endpoint may take to answer with data (Layer 1 loads the seeded model and
#: analyses the latest day first).
DATA_WAIT_S = 180.0
INFRA_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")


def _seconds() -> int:
    return int(os.environ.get("BENCH_HTTP_SECONDS", "5"))


def _runs() -> int:
    return max(1, int(os.environ.get("BENCH_HTTP_RUNS", "3")))


# --- wrk -------------------------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """The wrk binary; installed from Debian when missing and possible, else ``None``."""
    if shutil.which("wrk") or shutil.which("apt-get") is None or os.geteuid() != 0:
        return shutil.which("wrk")
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    for command in (install, ["apt-get", "update", "-qq"], install):
        subprocess.run(command, capture_output=True, check=False, timeout=600)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_TOTAL = re.compile(r"(\d+) requests in")


def parse_wrk(output: str) -> dict[str, Any]:
    percentiles = {int(q): float(v) * _UNITS[unit] for q, v, unit in _PERCENTILE.findall(output)}
    rate = _RATE.search(output)
    if rate is None or 50 not in percentiles or 99 not in percentiles:
        raise ValueError(f"unexpected wrk output: {output[-500:]}")
    errors = _ERRORS.search(output)
    total = _TOTAL.search(output)
    return {
        "requests_per_s": round(float(rate[1])),
        "p50_ms": round(percentiles[50], 2),
        "p99_ms": round(percentiles[99], 2),
        "requests": int(total[1]) if total else None,
        "non_2xx": int(m[1]) if (m := _NON_2XX.search(output)) else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def run_wrk(wrk: str, url: str, connections: int, headers: dict[str, str]) -> dict[str, Any]:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{_seconds()}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    result = subprocess.run([*argv, url], capture_output=True, text=True, check=True, timeout=_seconds() + 60)
    return parse_wrk(result.stdout)


# --- the fleet ---------------------------------------------------------------------------------------


def bench_catalog(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> tuple[Catalog, list[Endpoint]]:
    """The deploy catalog's services the endpoints need (and their dependencies), the baseline
    app, and the bench profile of the gateway; also the endpoints that can run."""
    deploy = load_catalog(DEFAULT_CATALOG)
    known = {s.name for s in deploy.services}
    runnable = [e for e in endpoints if e.service in known]
    wanted = {e.service for e in runnable}
    while True:  # dependencies of the wanted services (services only; infrastructure is implied)
        more = {d for s in deploy.services if s.name in wanted for d in s.depends_on if d in known}
        if more <= wanted:
            break
        wanted |= more
    data = deploy.model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in wanted]
    data["services"].append(
        {
            "name": BASELINE,
            "command": ["python", str(Path(__file__).with_name("baseline_app.py"))],
            "http_port": BASELINE_PORT,
            "public_prefixes": ["/bench/"],
            "readiness_path": BASELINE_PATH,
        }
    )
    for service in data["services"]:
        if service["name"] == "auth":  # room for the bench's registrations from one address
            service["env"]["AUTH_REGISTER_LIMIT"] = "100000"
        # the layer services' own per-user limits (cp_layer_kit.ratelimit), lifted like the gateway's
        service.setdefault("env", {})["LAYER_RATE_LIMIT_SCALE"] = "1000000"
    return bench_profile(Catalog.model_validate(data)), runnable


def _start_fleet(catalog: Catalog) -> tuple[Fleet, Path]:
    """A running fleet on free ports; retried on a fresh offset when another process on this
    busy machine takes a port between the check and the bind."""
    environ = {k: v for k, v in os.environ.items() if k not in INFRA_VARIABLES}
    for attempt in range(3):
        # A random start: other fleets (tests, other benchmarks) on this machine pick offsets too.
        start = 24000 + 307 * random.randrange(60)
        offset = next(
            o for o in range(start, 50000, 307) if all(port_free(p + o) for p in catalog_ports(catalog))
        )
        state_dir = Path(tempfile.mkdtemp(prefix="cp-bench-http-")).resolve()
        state_dir.chmod(0o755)
        fleet = Fleet(catalog.shifted(offset), state_dir, environ=environ)
        try:
            fleet.up(log=lambda line: None)
            return fleet, state_dir
        except FleetError:
            fleet.down()
            shutil.rmtree(state_dir, ignore_errors=True)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@contextmanager
def running_fleet(catalog: Catalog) -> Iterator[Fleet]:
    fleet, state_dir = _start_fleet(catalog)
    try:
        yield fleet
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


# --- data for the layer endpoints ------------------------------------------------------------------


def _macro_artifact() -> bytes:
    """A Layer 1 model fitted by ``cp_models`` on the simulated market (a fraction of a second)."""
    datasets = build_datasets(simulated_market())
    return MacroRegimeModel.fit(datasets.market, datasets.l1_y, CascadeConfig().l1, seed=11).to_bytes()


async def _activate_macro_model(url: str) -> None:
    """Register and activate a Layer 1 model: the service loads it (NOTIFY) and its refresh
    analyses the latest market day, the analysis ``market-regime`` then answers."""
    pool = await create_pool(url, layer1_macro_service.SCHEMA, max_size=1, register_metrics=False)
    try:
        await register_active(pool, layer1_macro_service.SCHEMA, "macro_regime_v3", _macro_artifact())
    finally:
        await close_pool(pool)


VOTES = (
    Vote("model", "long", 0.55, 0.62, "calibrated"),
    Vote("rsi", "long", 0.3, 41.0),
    Vote("macd", "hold", 0.2),
)
SEEDED_SYMBOLS = ("BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "AVAX", "LINK", "DOT", "DOGE")


def _signal(index: int, now: datetime) -> NewSignal:
    symbol = SEEDED_SYMBOLS[index % len(SEEDED_SYMBOLS)]
    entry = 100.0 + index
    generated = now - timedelta(hours=index)
    signal = new_signal(
        symbol,
        "long",
        generated.date(),
        entry,
        target_distance=entry * 0.08,
        stop_distance=entry * 0.04,
        run_id=f"bench-http-{index // len(SEEDED_SYMBOLS)}",
        votes=VOTES,
        generated_at=generated,
    )
    return dataclasses.replace(
        signal,
        ai_analysis=f"{symbol}: the model, RSI and MACD agree on a long entry",
        market_context={"regime": "bull", "display": True},
    )


async def _store_signals(url: str, count: int = 2 * SIGNALS_PAGE) -> None:
    """Active signals in Layer 4's table, as its generation stores them (two pages' worth)."""
    pool = await create_pool(url, layer4_timing_service.SCHEMA, max_size=1, register_metrics=False)
    try:
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            await signal_store.insert_new(conn, [_signal(i, now) for i in range(count)])
    finally:
        await close_pool(pool)


def seed_layers(fleet: Fleet, services: set[str]) -> None:
    """What the layer endpoints answer: Layer 1's model (its analysis follows), Layer 4's signals."""
    url = fleet.infra_env()["DATABASE_URL"]
    if "layer1-macro" in services:
        asyncio.run(_activate_macro_model(url))
    if "layer4-timing" in services:
        asyncio.run(_store_signals(url))


def access_token(fleet: Fleet) -> str:
    url = f"http://127.0.0.1:{fleet.catalog.service('auth').http_port}"
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
        login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
    return str(login.json()["data"]["access_token"])


def _direct(fleet: Fleet, service: str, path: str) -> str:
    return f"http://127.0.0.1:{fleet.catalog.service(service).http_port}{path}"


class EndpointUnavailable(RuntimeError):
    """The endpoint does not answer 200 with data before the load starts (reported as skipped)."""


def _check(url: str, headers: dict[str, str], has_data: Callable[[Any], bool], wait_s: float) -> None:
    """Wait until ``url`` answers 200 with data (a seeded analysis may take a while to appear)."""
    deadline = time.monotonic() + wait_s
    while True:
        response = httpx.get(url, headers=headers, timeout=30)
        if response.status_code == 200 and has_data(response.json()):
            return
        if time.monotonic() > deadline:
            raise EndpointUnavailable(
                f"answers {response.status_code} without data before the load: {response.text[:200]}"
            )
        time.sleep(1)


def _measure(
    wrk: str, fleet: Fleet, endpoint: Endpoint, headers: dict[str, str], wait_s: float = DATA_WAIT_S
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for where, url in (
        ("gateway", f"{fleet.gateway_url}{endpoint.path}"),
        ("direct", _direct(fleet, endpoint.service, endpoint.path)),
    ):
        _check(url, headers, endpoint.has_data, wait_s)
        run_wrk(wrk, url, 16, headers)  # warm-up (caches, connection pools); not reported
        for connections in CONNECTIONS:
            runs = [run_wrk(wrk, url, connections, headers) for _ in range(_runs())]
            figures[f"{where}_c{connections}"] = median_run(runs)
    return figures


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over ``runs``; answers and errors summed; every run's p99."""
    return {
        "requests_per_s": round(statistics.median(r["requests_per_s"] for r in runs)),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "p99_ms_runs": [r["p99_ms"] for r in runs],
        "requests": sum(r["requests"] or 0 for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
    }


def _ratios(figures: dict[str, Any], baseline: dict[str, Any]) -> None:
    for key, run in list(figures.items()):
        connections = key.rsplit("_c", 1)[1]
        run["ratio_to_baseline_direct"] = round(
            run["requests_per_s"] / baseline[f"direct_c{connections}"]["requests_per_s"], 3
        )
        run["ratio_to_baseline_gateway"] = round(
            run["requests_per_s"] / baseline[f"gateway_c{connections}"]["requests_per_s"], 3
        )


def _verdict_2xx(figures: dict[str, Any]) -> bool:
    """Every answer of every run was a 2xx (wrk counts the others)."""
    return all(r["non_2xx"] == 0 for r in figures.values())


def _socket_errors(figures: dict[str, Any]) -> int:
    """Connections wrk gave up on (e.g. no answer within its 5 s timeout on a loaded machine)."""
    return sum(r["socket_errors"] for r in figures.values())


def _verdict(figures: dict[str, Any]) -> dict[str, Any]:
    at_256 = figures["gateway_c256"]
    return {
        "target": f">= {TARGET_RATIO:.0%} of bare uvicorn's req/s and p99 < {TARGET_P99_MS:.0f} ms, "
        "256 connections, through the gateway",
        "meets_ratio": at_256["ratio_to_baseline_direct"] >= TARGET_RATIO,
        "meets_p99": at_256["p99_ms"] < TARGET_P99_MS,
        "all_answers_2xx": _verdict_2xx(figures),
        "socket_errors": _socket_errors(figures),
    }


def _mean_baseline(first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """The baseline's req/s per run as the mean of its measurement before and after the
    endpoints (the load of a shared machine drifts during a run)."""
    return {
        key: {"requests_per_s": (first[key]["requests_per_s"] + last[key]["requests_per_s"]) / 2}
        for key in first
    }


def summary(results: dict[str, Any]) -> list[str]:
    """One line per endpoint, place and connection count: the figures at a glance."""
    lines = []
    for name, figures in results.items():
        for key, run in figures.items():
            if not isinstance(run, dict) or "requests_per_s" not in run:
                continue
            ratio = run.get("ratio_to_baseline_direct")
            lines.append(
                f"{name:22} {key:13} {run['requests_per_s']:>6} req/s  p50 {run['p50_ms']:>7.1f} ms  "
                f"p99 {run['p99_ms']:>7.1f} ms  ratio {'-' if ratio is None else f'{ratio:.2f}':>5}  "
                f"non-2xx {run['non_2xx']}  socket errors {run['socket_errors']}"
            )
    return lines


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure_all(wrk: str) -> dict[str, Any]:
    catalog, runnable = bench_catalog()
    skipped = {
        e.name: f"service {e.service!r} is not in the deploy catalog yet"
        for e in ENDPOINTS
        if e not in runnable
    }
    load = {"start": _load()}
    with running_fleet(catalog) as fleet:
        time.sleep(2)  # let start-up work (history backfill, key loading) settle
        seed_layers(fleet, {e.service for e in runnable})
        baseline = _measure(wrk, fleet, BASELINE_ENDPOINT, {})
        token = access_token(fleet) if any(e.bearer for e in runnable) else None
        measured: dict[str, dict[str, Any]] = {}
        for endpoint in runnable:
            headers = {"Authorization": f"Bearer {token}"} if endpoint.bearer and token else {}
            try:
                measured[endpoint.name] = _measure(wrk, fleet, endpoint, headers)
            except EndpointUnavailable as exc:  # e.g. a layer without a trained model (make train)
                skipped[endpoint.name] = str(exc)
        baseline_after = _measure(wrk, fleet, BASELINE_ENDPOINT, {})
    load["end"] = _load()
    reference = _mean_baseline(baseline, baseline_after)
    results: dict[str, Any] = {
        "baseline": {
            "path": BASELINE_PATH,
            **baseline,
            "all_answers_2xx": _verdict_2xx(baseline),
            "socket_errors": _socket_errors(baseline),
        },
        "baseline_after": {
            "path": BASELINE_PATH,
            **baseline_after,
            "all_answers_2xx": _verdict_2xx(baseline_after),
            "socket_errors": _socket_errors(baseline_after),
        },
    }
    for endpoint in runnable:
        if (figures := measured.get(endpoint.name)) is not None:
            _ratios(figures, reference)
            results[endpoint.name] = {"path": endpoint.path, **figures, **_verdict(figures)}
    return {
        **results,
        "ratios_against": "the mean of the baseline's req/s before and after the endpoints",
        "load_average_1_5_15min": load,
        "summary": summary(results),
        "skipped": skipped,
    }


async def run() -> dict[str, Any]:
    wrk = ensure_wrk()
    if wrk is None:
        return {
            "skipped": "wrk is not installed (Debian package wrk: apt-get install -y wrk); no HTTP figures"
        }
    figures = await asyncio.to_thread(measure_all, wrk)
    return {
        "tool": "wrk -t1",
        "seconds_per_run": _seconds(),
        "runs_per_figure": _runs(),
        "connections": list(CONNECTIONS),
        **figures,
    }
