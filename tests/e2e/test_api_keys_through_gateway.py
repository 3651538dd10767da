"""API keys through the gateway of a real local fleet (auth, ingestion with private reads,
notification): a key's token is accepted by every service until the key is revoked or its owner
deactivated, then refused by every one of them, also after Redis restarts; ``cpctl`` logs in with
a key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.fleets import INFRA_VARIABLES, FleetHandle, free_port_offset

pytestmark = pytest.mark.slow

PASSWORD = "Api-Key-Path-2024!"
CPCTL = Path(sys.executable).with_name("cpctl")
#: One protected read per service of the fleet.
READS = {
    "auth": "/api/v1/auth/me",
    "ingestion": "/api/v1/market/assets?limit=1",
    "notification": "/api/v1/notifications/preferences",
}
KEYS = "/api/v1/auth/api-keys"


def _catalog() -> Catalog:
    data = load_catalog(DEFAULT_CATALOG).model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in READS]
    for service in data["services"]:
        if service["name"] == "ingestion":  # reads need a token; a short history starts quickly
            service["env"].update(
                {
                    "INGESTION_PUBLIC_READS": "false",
                    "JWKS_URL": "${AUTH_HTTP_URL}/.well-known/jwks.json",
                    "INGESTION_HISTORY_DAYS": "30",
                    "INGESTION_INTRADAY_DAYS": "2",
                }
            )
    return Catalog.model_validate(data)


class KeyFleet(FleetHandle):
    """The fleet the API-key tests run against: auth, ingestion and notification (:data:`READS`)."""


@pytest.fixture(scope="module")
def key_fleet() -> Iterator[KeyFleet]:
    base = _catalog()
    shifted = base.shifted(free_port_offset(base, start=1500))
    state_dir = Path(tempfile.mkdtemp(prefix="cp-apikey-e2e-")).resolve()
    state_dir.chmod(0o755)
    environ = {
        k: v for k, v in os.environ.items() if k not in INFRA_VARIABLES and not k.startswith("INGESTION_")
    }
    fleet = Fleet(shifted, state_dir, environ=environ)
    try:
        fleet.up(log=lambda line: None)
        yield KeyFleet(fleet)
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["access_token"]


def _user(client: httpx.Client) -> tuple[str, str]:
    email = f"bot-owner-{uuid.uuid4().hex[:8]}@example.com"
    created = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"], _login(client, email)


def _new_key(client: httpx.Client, session: str, scope: str = "read") -> tuple[str, str]:
    created = client.post(KEYS, json={"name": "e2e", "scope": scope}, headers=_bearer(session))
    assert created.status_code == 201, created.text
    return created.json()["data"]["key"]["id"], created.json()["data"]["api_key"]


def _exchange(client: httpx.Client, key: str) -> httpx.Response:
    return client.post(f"{KEYS}/token", json={"api_key": key})


def _statuses(client: httpx.Client, token: str) -> dict[str, int]:
    return {name: client.get(path, headers=_bearer(token)).status_code for name, path in READS.items()}


def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


EVERYWHERE_OK = dict.fromkeys(READS, 200)
EVERYWHERE_REFUSED = dict.fromkeys(READS, 401)


def test_create_use_revoke_refused_everywhere_also_after_a_redis_restart(key_fleet: KeyFleet) -> None:
    with httpx.Client(base_url=key_fleet.gateway, timeout=30) as client:
        _, session = _user(client)
        key_id, key = _new_key(client, session)
        token = _exchange(client, key).json()["data"]["access_token"]
        assert _statuses(client, token) == EVERYWHERE_OK
        revoked = client.delete(f"{KEYS}/{key_id}", headers=_bearer(session))
        assert revoked.status_code == 200, revoked.text
        assert _exchange(client, key).status_code == 401
        _until(lambda: _statuses(client, token) == EVERYWHERE_REFUSED)
        key_fleet.fleet.restart("redis", log=lambda line: None)
        # once the fleet answers again (the denylist rebuilt from PostgreSQL), still refused
        _until(lambda: _statuses(client, session) == EVERYWHERE_OK, seconds=60)
        assert _statuses(client, token) == EVERYWHERE_REFUSED
        assert _exchange(client, key).status_code == 401


def test_deactivating_the_owner_stops_the_key_everywhere(key_fleet: KeyFleet) -> None:
    with httpx.Client(base_url=key_fleet.gateway, timeout=30) as client:
        user_id, session = _user(client)
        _, key = _new_key(client, session, scope="read execute")
        token = _exchange(client, key).json()["data"]["access_token"]
        assert _statuses(client, token) == EVERYWHERE_OK
        admin = _login(client, "admin@cryptopredict.local", key_fleet.admin_password())
        off = client.post(f"/api/v1/auth/users/{user_id}/deactivate", headers=_bearer(admin))
        assert off.status_code == 200, off.text
        _until(lambda: _statuses(client, token) == EVERYWHERE_REFUSED)
        assert _exchange(client, key).status_code == 401


def _cpctl(
    gateway: str, config: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CPCTL_CONFIG_DIR": str(config), "COLUMNS": "200"}
    env.pop("CPCTL_API_KEY", None)
    return subprocess.run(
        [str(CPCTL), "--gateway", gateway, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env=env,
        check=False,
    )


def test_cpctl_logs_in_with_an_api_key(key_fleet: KeyFleet, tmp_path: Path) -> None:
    with httpx.Client(base_url=key_fleet.gateway, timeout=30) as client:
        _, session = _user(client)
        _, key = _new_key(client, session)
    login = _cpctl(key_fleet.gateway, tmp_path, "--json", "login", "--api-key-stdin", stdin=key + "\n")
    assert login.returncode == 0, login.stdout + login.stderr
    assert json.loads(login.stdout)["api_key"] is True
    whoami = _cpctl(key_fleet.gateway, tmp_path, "--json", "whoami")
    assert whoami.returncode == 0 and json.loads(whoami.stdout)["email"].startswith("bot-owner-")
    # an expired token is replaced by exchanging the stored key again
    stored = json.loads((tmp_path / "credentials.json").read_text())
    (tmp_path / "credentials.json").write_text(json.dumps({**stored, "access_token": "expired"}))
    again = _cpctl(key_fleet.gateway, tmp_path, "--json", "assets", "list", "--limit", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads((tmp_path / "credentials.json").read_text())["access_token"] != "expired"
    wrong = _cpctl(key_fleet.gateway, tmp_path / "other", "login", "--api-key-stdin", stdin="cpk_wrong\n")
    assert wrong.returncode == 3 and "Invalid" in wrong.stderr
