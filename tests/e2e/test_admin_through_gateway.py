"""The admin service in a real local fleet (auth, ingestion, admin under supervisord, PostgreSQL,
Redis, Kafka, Nginx; ports shifted, temporary state dir), driven through the gateway with the
installed ``cpctl`` console script: login, tables, ``--json``, exit codes, an L3 suggestion
approved end to end up to the WatchlistService the orchestrator and Layer 3 read, and the admin
dashboard without Layer 4 (its performance section unavailable, the rest answered).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.fleets import INFRA_VARIABLES, FleetHandle, free_port_offset
from cryptopredict.admin.v1 import watchlist_pb2, watchlist_pb2_grpc
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2

pytestmark = pytest.mark.slow

CPCTL = Path(sys.executable).with_name("cpctl")
PASSWORD = "Admin-Path-2024!"
#: Layer 1 is there for its model status in system health, notification for `signals tail`;
#: layer2-sector is left out on purpose (a command whose service is not deployed).
SERVICES = ("auth", "ingestion", "admin", "layer1-macro", "notification")


def _catalog() -> Catalog:
    data = load_catalog(DEFAULT_CATALOG).model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in SERVICES]
    for service in data["services"]:
        if service["name"] == "ingestion":  # a short simulated history keeps start-up quick
            service["env"].update({"INGESTION_HISTORY_DAYS": "30", "INGESTION_INTRADAY_DAYS": "2"})
    return Catalog.model_validate(data)


@dataclass
class AdminFleet(FleetHandle):
    catalog: Catalog
    config_dir: Path

    @property
    def watchlist_target(self) -> str:
        (admin,) = [s for s in self.catalog.services if s.name == "admin"]
        return f"127.0.0.1:{admin.grpc_port}"

    def cpctl(
        self, *args: str, config_dir: Path | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CPCTL_CONFIG_DIR": str(config_dir or self.config_dir), "COLUMNS": "200"}
        return subprocess.run(
            [str(CPCTL), "--gateway", self.gateway, *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=60,
            env=env,
            check=False,
        )


@pytest.fixture(scope="module")
def admin_fleet() -> Iterator[AdminFleet]:
    base = _catalog()
    offset = free_port_offset(base, start=1300)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-admin-e2e-")).resolve()
    state_dir.chmod(0o755)
    config_dir = Path(tempfile.mkdtemp(prefix="cp-cpctl-"))
    environ = {
        k: v for k, v in os.environ.items() if k not in INFRA_VARIABLES and not k.startswith("INGESTION_")
    }
    shifted = base.shifted(offset)
    fleet = Fleet(shifted, state_dir, environ=environ)
    try:
        fleet.up(log=lambda line: None)
        yield AdminFleet(fleet, shifted, config_dir)
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(config_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def logged_in(admin_fleet: AdminFleet) -> AdminFleet:
    result = admin_fleet.cpctl(
        "login",
        "--email",
        "admin@cryptopredict.local",
        "--password-stdin",
        stdin=admin_fleet.admin_password() + "\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return admin_fleet


def _casual_token(admin_fleet: AdminFleet) -> str:
    email = f"casual-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=admin_fleet.gateway, timeout=30) as client:
        assert (
            client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code
            == 201
        )
        login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return login.json()["data"]["access_token"]


def test_login_keeps_the_session_in_a_0600_file(logged_in: AdminFleet) -> None:
    credentials = logged_in.config_dir / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(logged_in.config_dir.stat().st_mode) == 0o700
    whoami = logged_in.cpctl("--json", "whoami")
    assert whoami.returncode == 0 and json.loads(whoami.stdout)["role"] == "admin"
    assert logged_in.admin_password() not in credentials.read_text()


def test_an_expired_access_token_is_refreshed_once_with_the_stored_refresh_token(
    logged_in: AdminFleet, tmp_path: Path
) -> None:
    copy = tmp_path / "cpctl"
    shutil.copytree(logged_in.config_dir, copy)
    credentials = copy / "credentials.json"
    session = json.loads(credentials.read_text())
    session["access_token"] = "expired.or.forged"
    credentials.write_text(json.dumps(session))
    whoami = logged_in.cpctl("--json", "whoami", config_dir=copy)
    assert whoami.returncode == 0, whoami.stderr
    refreshed = json.loads(credentials.read_text())
    assert refreshed["access_token"] != "expired.or.forged"
    assert refreshed["refresh_token"] != session["refresh_token"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_tables_by_default_and_json_on_request(logged_in: AdminFleet) -> None:
    table = logged_in.cpctl("assets", "list", "--limit", "5")
    assert table.returncode == 0, table.stderr
    assert "symbol" in table.stdout and "BTC" in table.stdout and "┃" in table.stdout
    regime = logged_in.cpctl("--json", "regime")
    assert regime.returncode == 0, regime.stderr
    assert json.loads(regime.stdout)["regime"] in {"unknown", "bull", "bear", "sideways", "volatile"}
    added = logged_in.cpctl("watchlists", "add", "SOL", "ETH", "--tier", "tier2")
    assert added.returncode == 0, added.stderr
    assert "Added 2 items" in added.stdout
    shown = logged_in.cpctl("--json", "watchlists", "show")
    assert shown.returncode == 0, shown.stderr
    items = {i["symbol"]: i for i in json.loads(shown.stdout)["items"]}
    assert items["SOL"]["tier"] == "tier2" and items["SOL"]["market"]["price_usd"] > 0


def test_errors_give_clear_messages_and_non_zero_exit_codes(logged_in: AdminFleet, tmp_path: Path) -> None:
    unknown = logged_in.cpctl("watchlists", "add", "NOSUCHCOIN")
    assert unknown.returncode == 1 and "unknown symbol" in unknown.stderr
    missing = logged_in.cpctl("suggestions", "review", str(uuid.uuid4()), "approve")
    assert missing.returncode == 5 and "Suggestion not found" in missing.stderr
    not_deployed = logged_in.cpctl("sectors", "list")
    assert not_deployed.returncode == 6 and "layer2-sector" in not_deployed.stderr
    anonymous = logged_in.cpctl("watchlists", "list", config_dir=tmp_path)
    assert anonymous.returncode == 3 and "cpctl login" in anonymous.stderr
    usage = logged_in.cpctl("suggestions", "review", "x", "maybe")
    assert usage.returncode == 2
    unreachable = subprocess.run(
        [str(CPCTL), "--gateway", "http://127.0.0.1:9", "health"], capture_output=True, text=True, check=False
    )
    assert unreachable.returncode == 7


def test_casual_tokens_get_403_on_admin_routes_through_the_gateway(admin_fleet: AdminFleet) -> None:
    token = _casual_token(admin_fleet)
    with httpx.Client(base_url=admin_fleet.gateway, headers={"Authorization": f"Bearer {token}"}) as client:
        for method, path in (
            ("GET", "/api/v1/admin/audit"),
            ("GET", "/api/v1/admin/system-health"),
            ("GET", "/api/v1/admin/watchlist"),
            ("GET", "/api/v1/dashboard/admin"),
            ("GET", "/api/v1/layer3/suggestions"),
        ):
            response = client.request(method, path)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"] == "Admin privileges required"
        assert client.get("/api/v1/layer3/watchlists").status_code == 200


async def _publish_suggestion(bootstrap: str, message: events_pb2.WatchlistSuggestionCreated) -> None:
    producer = EventProducer(bootstrap, client_id="admin-e2e")
    await producer.start()
    try:
        await producer.publish(topics.WATCHLIST_SUGGESTIONS.name, message)
    finally:
        await producer.stop()


def _pending(fleet: AdminFleet, suggestion_id: str) -> bool:
    listed = fleet.cpctl("--json", "suggestions", "list", "--confidence-min", "0")
    return listed.returncode == 0 and suggestion_id in {
        s["id"] for s in json.loads(listed.stdout)["suggestions"]
    }


async def test_an_approved_promotion_reaches_the_watchlist_service_with_its_audit_entry(
    logged_in: AdminFleet,
) -> None:
    added = logged_in.cpctl("watchlists", "add", "AVAX", "--tier", "tier2")
    assert added.returncode == 0, added.stderr
    message = events_pb2.WatchlistSuggestionCreated(
        suggestion_id=str(uuid.uuid4()),
        symbol="AVAX",
        suggestion_type=common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1,
        confidence=0.9,
        ai_reasoning="promotion score 0.9",
    )
    message.suggested_at.GetCurrentTime()
    await _publish_suggestion(logged_in.fleet.infra_env()["KAFKA_BOOTSTRAP_SERVERS"], message)
    deadline = time.monotonic() + 60
    while not _pending(logged_in, message.suggestion_id):
        assert time.monotonic() < deadline, "the suggestion never reached the queue"
        await asyncio.sleep(0.5)

    approved = logged_in.cpctl("suggestions", "review", message.suggestion_id, "approve", "--note", "e2e")
    assert approved.returncode == 0, approved.stderr
    assert "AVAX now in tier1" in approved.stdout

    async with grpc.aio.insecure_channel(logged_in.watchlist_target) as channel:
        sets = await watchlist_pb2_grpc.WatchlistServiceStub(channel).GetTierSets(
            watchlist_pb2.GetTierSetsRequest()
        )
    assert "AVAX" in [i.symbol for i in sets.tier1_items]
    assert "AVAX" not in [i.symbol for i in sets.tier2_items]

    audit = logged_in.cpctl(
        "--json", "audit", "--action", "suggestion.approve", "--target-id", message.suggestion_id
    )
    assert audit.returncode == 0, audit.stderr
    (entry,) = json.loads(audit.stdout)["entries"]
    assert entry["actor"]["email"] == "admin@cryptopredict.local" and entry["after"]["note"] == "e2e"
    again = logged_in.cpctl("suggestions", "review", message.suggestion_id, "reject")
    assert again.returncode == 1 and "already approved" in again.stderr


def test_signals_tail_follows_the_live_stream(logged_in: AdminFleet, tmp_path: Path) -> None:
    tail = logged_in.cpctl("--json", "signals", "tail", "--count", "1")
    assert tail.returncode == 0, tail.stderr
    (first,) = [json.loads(line) for line in tail.stdout.splitlines()]
    assert first["type"] == "signals_init"
    copy = tmp_path / "cpctl"
    shutil.copytree(logged_in.config_dir, copy)
    credentials = copy / "credentials.json"
    session = json.loads(credentials.read_text())
    credentials.write_text(json.dumps({**session, "access_token": "forged"}))
    refused = logged_in.cpctl("signals", "tail", "--count", "1", config_dir=copy)
    assert refused.returncode == 3 and "authentication failed" in refused.stderr


def test_system_health_through_the_gateway(logged_in: AdminFleet) -> None:
    result = logged_in.cpctl("--json", "system", "health")
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)
    assert health["services"]["auth"]["ready"] is True and health["services"]["ingestion"]["ready"] is True
    assert health["services"]["admin"]["ready"] is True
    assert health["services"]["layer3-asset"]["status"] == "unavailable"
    assert "admin" in health["consumer_lag"]
    assert health["services"]["layer1-macro"]["ready"] is True
    models = health["models"]
    assert models["status"] == "available", models
    assert {(m["service"], m["layer"]) for m in models["active"]} >= {("layer1-macro", "macro")}
    assert all(m["status"] in ("active", "training", "inactive", "error") for m in models["active"])
    table = logged_in.cpctl("system", "health")
    assert table.returncode == 0 and "ingestion" in table.stdout and "last cascade run" in table.stdout


def test_the_dashboard_says_performance_is_unavailable_without_layer4(logged_in: AdminFleet) -> None:
    result = logged_in.cpctl("--json", "system", "dashboard", "--performance-days", "7")
    assert result.returncode == 0, result.stderr
    dashboard = json.loads(result.stdout)
    assert set(dashboard) == {"watchlist_stats", "suggestion_queue", "system_health", "performance_metrics"}
    performance = dashboard["performance_metrics"]
    assert performance["status"] == "unavailable" and "not deployed" in performance["reason"], performance
    table = logged_in.cpctl("system", "dashboard")
    assert table.returncode == 0 and "performance_metrics" in table.stdout and "layer4-timing" in table.stdout
    refused = logged_in.cpctl("system", "dashboard", "--performance-days", "400")
    assert refused.returncode == 2
