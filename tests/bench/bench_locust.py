"""The seeds' load scenario scaled to this machine: mixed users through the gateway with locust.

The seeds ask for p95 < 500 ms with 0 errors other than intended 429s (their non-functional
targets: P95 response time, concurrent users). A port-shifted fleet (auth, ingestion's simulated market,
Layers 1-4, the orchestrator and notification; models trained as ``make up`` does,
:mod:`cp_testing.cascade_fleet`) runs with the gateway's bench profile
(:func:`cp_fleet.nginx_config.bench_profile`: every user comes from one address here, so the
per-IP zones are lifted; the services' per-user limits stay). Seeded before the load: a full
cascade through the gateway (the dashboard's run, regime and sectors) and Layer 4's signals at a
rebalance close (:mod:`cp_testing.layer_cascade`), and one registered account per user.

The users (``locust_users.py``, in a subprocess: locust patches the standard library with
gevent) log in, read dashboards, regime, sectors, signals, candles and their account, and open
the dashboard WebSocket; one more user goes over its per-user limit on purpose. Figures: p50,
p95, p99, req/s, the error rate, and the intended 429s apart. ``BENCH_LOCUST_USERS`` (50) and
``BENCH_LOCUST_SECONDS`` (45) scale it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx

from cp_fleet.catalog import Catalog
from cp_fleet.nginx_config import bench_profile
from cp_testing.cascade_fleet import CascadeFleet, cascade_catalog, cascade_fleet, clean_environ
from cp_testing.layer_cascade import cascade_over_grpc, signals_on_a_rebalance_day

USERS_SCRIPT = Path(__file__).with_name("locust_users.py")
PASSWORD = "Bench-Locust-2024!"
TARGET_P95_MS = 500.0
#: Users starting per second: each logs in once (argon2id, by design the costliest request), so
#: a faster ramp on two cores measures the login queue rather than the reads.
SPAWN_RATE = 5.0
ORCHESTRATOR_ENV = {
    # no scheduled or market-move runs competing with the users: the seeded run is the dashboard's
    "ORCHESTRATOR_SCHEDULE_S": "0",
    "ORCHESTRATOR_MOVE_THRESHOLD": "1.0",
}


def _users() -> int:
    return int(os.environ.get("BENCH_LOCUST_USERS", "50"))


def _seconds() -> int:
    return int(os.environ.get("BENCH_LOCUST_SECONDS", "45"))


def locust_catalog() -> Catalog:
    catalog = cascade_catalog(ORCHESTRATOR_ENV, extra_services=("notification",))
    data = catalog.model_dump(mode="json")
    for service in data["services"]:
        if service["name"] == "auth":  # one registration per user, all from one address
            service["env"]["AUTH_REGISTER_LIMIT"] = "100000"
        if service["name"] == "ingestion":
            # the simulated market in real time (not an hour every 10 s): the seeded signals stay
            # active while the users read them, instead of hitting their targets or stops
            service.setdefault("env", {})["INGESTION_SYNTHETIC_SPEED"] = "1"
    return bench_profile(Catalog.model_validate(data))


async def seed_signals(fleet: CascadeFleet) -> str:
    """Layer 4's signals at the latest rebalance close; the signals path that lists them."""
    macro, _, _ = await cascade_over_grpc(fleet, f"bench-latest-{uuid.uuid4().hex[:8]}")
    _, timing = await signals_on_a_rebalance_day(fleet, macro.run.as_of.ToDatetime(tzinfo=UTC))
    detail = await fleet.get(f"/api/v1/layer4/signals/{timing.signals[0].signal_id}")
    detail.raise_for_status()
    return f"/api/v1/layer4/signals?status={detail.json()['data']['status']}&limit=20"


async def seed_dashboard(fleet: CascadeFleet) -> None:
    """A completed full cascade: what the dashboard, the regime and the sectors read."""
    answer = await fleet.post("/api/v1/analysis/full", {"symbols": []}, wait_s=300)
    if answer.status_code != 200:
        raise RuntimeError(f"the seeding cascade failed: {answer.status_code} {answer.text[:300]}")


async def register(fleet: CascadeFleet, count: int) -> list[dict[str, str]]:
    accounts = [
        {"email": f"locust-{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD} for _ in range(count)
    ]
    semaphore = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=fleet.http("auth"), timeout=60) as client:

        async def one(account: dict[str, str]) -> None:
            async with semaphore:
                (await client.post("/api/v1/auth/register", json=account)).raise_for_status()

        await asyncio.gather(*(one(a) for a in accounts))
    return accounts


async def seed(fleet: CascadeFleet, users: int) -> dict[str, Any]:
    await seed_dashboard(fleet)
    signals_path = await seed_signals(fleet)
    accounts = await register(fleet, users + 1)  # one more for the user over its limit
    return {"signals_path": signals_path, "accounts": accounts}


def run_users(fleet: CascadeFleet, seeded: dict[str, Any]) -> dict[str, Any]:
    config = {
        "host": fleet.gateway,
        "users": _users() + 1,
        "spawn_rate": SPAWN_RATE,
        "seconds": _seconds(),
        **seeded,
    }
    result = subprocess.run(
        [sys.executable, str(USERS_SCRIPT)],
        input=json.dumps(config),
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=_seconds() + 300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the locust run failed: {result.stderr[-2000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _verdict(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": f"p95 < {TARGET_P95_MS:.0f} ms, 0 errors other than intended 429s",
        "meets_p95": figures["p95_ms"] < TARGET_P95_MS,
        "meets_errors": figures["failures"] == 0,
    }


def run() -> dict[str, Any]:
    with cascade_fleet(locust_catalog(), prefix="cp-bench-locust-") as fleet:
        seeded = asyncio.run(seed(fleet, _users()))
        figures = run_users(fleet, seeded)
    return {"tool": "locust (headless, LocalRunner)", **figures, **_verdict(figures)}
