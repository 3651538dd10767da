"""The auth service in a real local fleet (supervisord, PostgreSQL, Redis, Kafka, Nginx), used
through the gateway, and its tokens checked by another service's own verifier.

The fleet runs the ``auth`` entry and the gateway settings of ``deploy/services.yaml`` (ports
shifted, temporary state dir). At the end, every log file the fleet wrote is scanned for the
passwords and tokens the test used.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import APIRouter, Depends, FastAPI
from redis.asyncio import Redis

from cp_common.cache import create_redis
from cp_common.http import create_app, ok
from cp_common.security import JwtVerifier, Principal, Role, current_principal, require_roles
from cp_common.security.denylist import TokenDenylist
from cp_common.settings import ServiceSettings
from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.fleets import FleetHandle, free_port_offset

pytestmark = pytest.mark.slow
T = TypeVar("T")

PASSWORD = "Gateway-Path-2024!"
ENVELOPE_KEYS = {"success", "error", "error_code", "timestamp"}
INFRA_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")


VERIFYING_SERVICE = Path(__file__).with_name("verifying_service.py")
LOCKOUT_THRESHOLD = 3


def _auth_only_catalog() -> Catalog:
    """The deploy catalog's gateway and auth entry (other services are not needed here), plus a
    service that verifies tokens itself with the shared runtime (``verifying_service.py``)."""
    deploy = load_catalog(DEFAULT_CATALOG)
    data = deploy.model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] == "auth"]
    # A quick lockout, and room for the registrations this module makes from one address.
    data["services"][0]["env"].update(
        {"AUTH_LOCKOUT_THRESHOLD": str(LOCKOUT_THRESHOLD), "AUTH_REGISTER_LIMIT": "1000"}
    )
    data["services"].append(
        {
            "name": "verifying",
            "command": ["python", str(VERIFYING_SERVICE)],
            "http_port": 8118,
            "public_prefixes": ["/api/v1/verifying/"],
            "depends_on": ["redis", "auth"],
            "env": {"JWKS_URL": "${AUTH_HTTP_URL}/.well-known/jwks.json"},
        }
    )
    return Catalog.model_validate(data)


@dataclass
class AuthFleet(FleetHandle):
    secrets: list[str] = field(default_factory=list)

    def admin_credentials(self) -> tuple[str, str]:
        password = self.admin_password()
        self.secrets.append(password)
        return "admin@cryptopredict.local", password

    def keep(self, *secrets: str) -> None:
        self.secrets.extend(secrets)


@pytest.fixture(scope="module")
def auth_fleet() -> Iterator[AuthFleet]:
    base = _auth_only_catalog()
    offset = free_port_offset(base, start=1200, stop=13000, step=211)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-auth-e2e-")).resolve()
    state_dir.chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if k not in INFRA_VARIABLES}
    fleet = Fleet(base.shifted(offset), state_dir, environ=environ)
    started = time.monotonic()
    try:
        fleet.up(log=lambda line: None)
        print(f"auth fleet up in {time.monotonic() - started:.1f}s")
        yield AuthFleet(fleet)
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def gateway_client(auth_fleet: AuthFleet) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_fleet.gateway, timeout=30) as client:
        yield client


async def _register_and_login(auth_fleet: AuthFleet, client: httpx.AsyncClient) -> dict:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    registered = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()["data"]
    auth_fleet.keep(PASSWORD, tokens["access_token"], tokens["refresh_token"])
    return tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- another service, verifying tokens itself --------------------------------------------------


def _other_service(auth_fleet: AuthFleet, redis: Redis) -> tuple[FastAPI, JwtVerifier]:
    settings = ServiceSettings(service_name="other", environment="test")
    router = APIRouter(prefix="/api/v1/other")

    @router.get("/mine")
    async def mine(principal: Principal = Depends(current_principal)) -> object:
        return ok({"user_id": principal.user_id, "role": principal.role})

    @router.get("/admin")
    async def admin_only(principal: Principal = Depends(require_roles(Role.ADMIN))) -> object:
        return ok({"user_id": principal.user_id})

    app = create_app(settings, title="Other", routers=[router])
    verifier = JwtVerifier(
        f"{auth_fleet.gateway}/.well-known/jwks.json",  # through the gateway
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        is_revoked=TokenDenylist(redis).is_revoked,
    )
    app.state.jwt_verifier = verifier
    return app, verifier


@pytest.fixture(scope="module")
async def other_service(auth_fleet: AuthFleet) -> AsyncIterator[httpx.AsyncClient]:
    redis = create_redis(auth_fleet.redis_url)
    app, verifier = _other_service(auth_fleet, redis)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://other") as client:
        yield client
    await verifier.aclose()
    await redis.aclose()


# --- tests -------------------------------------------------------------------------------------


async def test_register_login_me_refresh_logout_through_the_gateway(auth_fleet, gateway_client) -> None:
    tokens = await _register_and_login(auth_fleet, gateway_client)
    me = await gateway_client.get("/api/v1/auth/me", headers=_bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["data"]["role"] == "casual"
    assert me.headers["x-frame-options"] == "DENY" and me.headers["x-content-type-options"] == "nosniff"
    assert me.headers["x-request-id"]

    refreshed = await gateway_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    pair = refreshed.json()["data"]
    auth_fleet.keep(pair["access_token"], pair["refresh_token"])

    out = await gateway_client.post(
        "/api/v1/auth/logout",
        headers=_bearer(pair["access_token"]),
        json={"refresh_token": pair["refresh_token"]},
    )
    assert out.status_code == 200
    after = await gateway_client.get("/api/v1/auth/me", headers=_bearer(pair["access_token"]))
    assert after.status_code == 401 and after.json()["error"] == "token revoked"


async def test_a_refreshed_away_token_reused_revokes_the_family(auth_fleet, gateway_client) -> None:
    tokens = await _register_and_login(auth_fleet, gateway_client)
    first = await gateway_client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    newest = first.json()["data"]
    auth_fleet.keep(newest["access_token"], newest["refresh_token"])
    reuse = await gateway_client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    assert set(reuse.json()) >= ENVELOPE_KEYS
    dead = await gateway_client.post("/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]})
    assert dead.status_code == 401
    me = await gateway_client.get("/api/v1/auth/me", headers=_bearer(newest["access_token"]))
    assert me.status_code == 401


async def test_a_logged_out_token_is_refused_by_another_service(
    auth_fleet, gateway_client, other_service
) -> None:
    tokens = await _register_and_login(auth_fleet, gateway_client)
    headers = _bearer(tokens["access_token"])
    before = await other_service.get("/api/v1/other/mine", headers=headers)
    assert before.status_code == 200 and before.json()["data"]["role"] == "casual"
    assert (await other_service.get("/api/v1/other/admin", headers=headers)).status_code == 403

    await gateway_client.post("/api/v1/auth/logout", headers=headers)
    after = await other_service.get("/api/v1/other/mine", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"] == "token revoked" and after.json()["success"] is False


async def test_roles_on_admin_routes(auth_fleet, gateway_client, other_service) -> None:
    email, password = auth_fleet.admin_credentials()
    admin = (
        await gateway_client.post("/api/v1/auth/login", json={"email": email, "password": password})
    ).json()
    admin_tokens = admin["data"]
    auth_fleet.keep(admin_tokens["access_token"], admin_tokens["refresh_token"])
    casual = await _register_and_login(auth_fleet, gateway_client)
    me = (await gateway_client.get("/api/v1/auth/me", headers=_bearer(casual["access_token"]))).json()["data"]

    refused = await gateway_client.get("/api/v1/auth/users", headers=_bearer(casual["access_token"]))
    assert refused.status_code == 403 and refused.json()["error"] == "Admin privileges required"
    promoted = await gateway_client.put(
        f"/api/v1/auth/users/{me['id']}/role",
        headers=_bearer(admin_tokens["access_token"]),
        json={"role": "professional"},
    )
    assert promoted.status_code == 200
    refreshed = (
        await gateway_client.post("/api/v1/auth/refresh", json={"refresh_token": casual["refresh_token"]})
    ).json()["data"]
    auth_fleet.keep(refreshed["access_token"], refreshed["refresh_token"])
    professional = await other_service.get("/api/v1/other/admin", headers=_bearer(refreshed["access_token"]))
    assert professional.status_code == 403
    assert (
        await other_service.get("/api/v1/other/admin", headers=_bearer(admin_tokens["access_token"]))
    ).status_code == 200
    listed = await gateway_client.get("/api/v1/auth/users", headers=_bearer(admin_tokens["access_token"]))
    assert listed.status_code == 200 and listed.json()["data"]["total"] >= 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_forged_tokens_are_refused_by_another_service(
    auth_fleet, gateway_client, other_service
) -> None:
    tokens = await _register_and_login(auth_fleet, gateway_client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    key = serialization.load_pem_private_key(
        (auth_fleet.state_dir / "auth-keys" / f"{kid}.pem").read_bytes(), password=None
    )
    now = int(time.time())

    def signed(signing_key=key, **overrides) -> str:
        return jwt.encode(
            {**claims, "jti": uuid.uuid4().hex, **overrides},
            signing_key,
            algorithm="EdDSA",
            headers={"kid": kid},
        )

    header, _, signature = tokens["access_token"].split(".")
    elevated = _b64(json.dumps({**claims, "role": "admin"}).encode())
    forged = {
        "expired": signed(iat=now - 3600, exp=now - 120),
        "tampered": f"{header}.{elevated}.{signature}",
        "alg_none": f"{_b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{elevated}.",
        "wrong_key": signed(ed25519.Ed25519PrivateKey.generate()),
        "wrong_audience": signed(aud="another-product"),
    }
    for kind, token in forged.items():
        response = await other_service.get("/api/v1/other/admin", headers=_bearer(token))
        assert response.status_code == 401, kind
        assert set(response.json()) >= ENVELOPE_KEYS and response.json()["error_code"] == 401
    genuine = await other_service.get("/api/v1/other/mine", headers=_bearer(tokens["access_token"]))
    assert genuine.status_code == 200


async def test_fleet_health_and_jwks_through_the_gateway(gateway_client) -> None:
    health = await gateway_client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["data"] == {
        "status": "healthy",
        "services": {"auth": {"ready": True}, "verifying": {"ready": True}},
    }
    jwks = await gateway_client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.json()["keys"][0]["alg"] == "EdDSA"
    static = await gateway_client.get("/health")
    assert static.json()["data"] == {"status": "healthy"}


def test_a_burst_over_the_limit_gets_429_in_the_envelope(auth_fleet) -> None:
    url = f"{auth_fleet.gateway}/api/v1/auth/login"
    body = {"email": "burst@example.com", "password": "Not-The-Password-1"}
    auth_fleet.keep(body["password"])
    # All at once: arrivals must not wait for argon2 answers, or a slow machine stays under the rate.
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(30) as pool:
        responses = list(pool.map(lambda _: client.post(url, json=body), range(30)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert {r.status_code for r in responses} <= {401, 429}
    answer = limited[0]
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == ENVELOPE_KEYS and answer.json()["error_code"] == 429
    assert answer.json()["error"] == "Too many requests"


# --- durability: revocations and lockouts across Redis restarts (issue 9) -------------------------


async def _until(
    probe: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], *, timeout_s: float = 60.0
) -> T:
    """Call ``probe`` until ``predicate(result)`` holds; the last result (the test asserts on it)."""
    deadline = time.monotonic() + timeout_s
    result = await probe()
    while not predicate(result) and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        result = await probe()
    return result


async def _three_revoked_tokens(auth_fleet: AuthFleet, client: httpx.AsyncClient) -> dict[str, str]:
    """An access token revoked by logout, one by refresh-token reuse, one by a role change (an
    admin demoted while holding an admin token)."""
    logged_out = await _register_and_login(auth_fleet, client)
    out = await client.post("/api/v1/auth/logout", headers=_bearer(logged_out["access_token"]))
    assert out.status_code == 200, out.text

    reused = await _register_and_login(auth_fleet, client)
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": reused["refresh_token"]})
    newest = rotated.json()["data"]
    auth_fleet.keep(newest["access_token"], newest["refresh_token"])
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": reused["refresh_token"]})
    assert replay.status_code == 401

    email, password = auth_fleet.admin_credentials()
    root = (await client.post("/api/v1/auth/login", json={"email": email, "password": password})).json()
    root_token = root["data"]["access_token"]
    auth_fleet.keep(root_token, root["data"]["refresh_token"])
    demoted = await _register_and_login(auth_fleet, client)
    me = (await client.get("/api/v1/auth/me", headers=_bearer(demoted["access_token"]))).json()["data"]
    role_url = f"/api/v1/auth/users/{me['id']}/role"
    promoted = await client.put(role_url, headers=_bearer(root_token), json={"role": "admin"})
    assert promoted.status_code == 200
    login = await client.post("/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD})
    admin_token = login.json()["data"]["access_token"]
    auth_fleet.keep(admin_token, login.json()["data"]["refresh_token"])
    listed = await client.get("/api/v1/auth/users", headers=_bearer(admin_token))
    assert listed.status_code == 200
    demote = await client.put(role_url, headers=_bearer(root_token), json={"role": "casual"})
    assert demote.status_code == 200
    return {
        "logout": logged_out["access_token"],
        "refresh_reuse": newest["access_token"],
        "role_change": admin_token,
    }


#: Protected routes of each service that verifies tokens.
PROTECTED_ROUTES = {
    "auth": ("/api/v1/auth/me", "/api/v1/auth/users"),
    "verifying": ("/api/v1/verifying/mine", "/api/v1/verifying/admin"),
}


@dataclass
class Services:
    """Each service on its own port (polling through the gateway would meet its rate limit)."""

    http: httpx.AsyncClient
    urls: dict[str, str]

    async def statuses(self, token: str) -> dict[str, tuple[int, str | None]]:
        answers = {}
        for service, routes in PROTECTED_ROUTES.items():
            for route in routes:
                response = await self.http.get(f"{self.urls[service]}{route}", headers=_bearer(token))
                answers[route] = (response.status_code, response.json().get("error"))
        return answers


@pytest.fixture(scope="module")
async def services(auth_fleet: AuthFleet) -> AsyncIterator[Services]:
    catalog = auth_fleet.fleet.catalog
    urls = {name: f"http://127.0.0.1:{catalog.service(name).http_port}" for name in PROTECTED_ROUTES}
    async with httpx.AsyncClient(timeout=30) as client:
        yield Services(client, urls)


@pytest.fixture(scope="module")
async def auth_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The auth service on its own port: tokens are made here, past the gateway's login limit."""
    async with httpx.AsyncClient(base_url=services.urls["auth"], timeout=30) as client:
        yield client


async def _assert_refused_everywhere(services: Services, tokens: dict[str, str]) -> None:
    for how, token in tokens.items():
        answers = await services.statuses(token)
        assert all(answer == (401, "token revoked") for answer in answers.values()), (how, answers)


async def _restart_redis(auth_fleet: AuthFleet, *, wipe: bool) -> None:
    fleet = auth_fleet.fleet
    fleet.stop("redis")
    if wipe:  # an ephemeral Redis (a new pod): nothing of the old data comes back
        for path in fleet.layout.redis_dir.iterdir():
            if path.is_file():
                path.unlink()
    fleet.start("redis", log=lambda line: None)


@pytest.mark.parametrize("wipe", [False, True], ids=["restart-with-aof", "restart-empty"])
async def test_revoked_tokens_stay_refused_by_every_service_across_a_redis_restart(
    auth_fleet, services, auth_client, wipe
) -> None:
    revoked = await _three_revoked_tokens(auth_fleet, auth_client)
    live = (await _register_and_login(auth_fleet, auth_client))["access_token"]
    await _assert_refused_everywhere(services, revoked)

    await _restart_redis(auth_fleet, wipe=wipe)
    # Right after the restart (before any rebuild), revoked tokens must never be served.
    during = [status for token in revoked.values() for status, _ in (await services.statuses(token)).values()]
    assert 200 not in during, during
    # Once a live token is served again by every service, the three are still refused.
    served = await _until(
        lambda: services.statuses(live), lambda a: all(s in (200, 403) for s, _ in a.values())
    )
    assert all(status in (200, 403) for status, _ in served.values()), served
    await _assert_refused_everywhere(services, revoked)
    # The live token is now in every service's verified-token cache: revoking it after the
    # restart reaches them all (pushed again), within the documented bound (JWT_CACHE_SECONDS).
    out = await auth_client.post("/api/v1/auth/logout", headers=_bearer(live))
    assert out.status_code == 200
    refused = await _until(
        lambda: services.statuses(live),
        lambda a: all(answer == (401, "token revoked") for answer in a.values()),
        timeout_s=5.5,
    )
    assert all(answer == (401, "token revoked") for answer in refused.values()), refused
    if wipe:
        redis = create_redis(auth_fleet.redis_url)
        try:
            assert await redis.get("jwt:denylist-primed") is not None  # rebuilt from PostgreSQL
        finally:
            await redis.aclose()


async def test_a_locked_account_stays_locked_across_an_empty_redis(auth_fleet, auth_client) -> None:
    async def login(email: str, password: str = PASSWORD) -> httpx.Response:
        return await auth_client.post("/api/v1/auth/login", json={"email": email, "password": password})

    locked, unlocked = (f"lock-{uuid.uuid4().hex[:10]}@example.com" for _ in range(2))
    for email in (locked, unlocked):
        created = await auth_client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert created.status_code == 201, created.text
    for _ in range(LOCKOUT_THRESHOLD):
        assert (await login(locked, "Wrong-Pass-1!")).status_code == 401
    assert (await login(locked)).status_code == 401  # the right password, refused: locked

    await _restart_redis(auth_fleet, wipe=True)
    # Once the service works again (an account that is not locked logs in), the lock holds.
    fine = await _until(lambda: login(unlocked), lambda r: r.status_code == 200)
    assert fine.status_code == 200, fine.text
    auth_fleet.keep(fine.json()["data"]["access_token"], fine.json()["data"]["refresh_token"])
    still = await login(locked)
    assert still.status_code == 401 and still.json()["error"] == "Invalid email or password"


async def test_fleet_health_reports_degraded_while_auth_is_down(auth_fleet, gateway_client) -> None:
    auth_fleet.fleet.stop("auth")
    try:

        async def health() -> httpx.Response:
            return await gateway_client.get("/api/v1/health")

        answer = await _until(health, lambda r: r.status_code == 503)
        assert answer.status_code == 503 and answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["success"] is False and body["error"] == "fleet degraded", body
        assert body["data"]["services"] == {"auth": {"ready": False}, "verifying": {"ready": True}}
    finally:
        auth_fleet.fleet.start("auth", log=lambda line: None)
    healthy = await _until(lambda: gateway_client.get("/api/v1/health"), lambda r: r.status_code == 200)
    assert healthy.json()["data"]["status"] == "healthy"


async def test_no_password_or_token_in_any_log(auth_fleet) -> None:
    await asyncio.sleep(0.5)  # let the last access-log lines land
    logs = sorted(p for p in (auth_fleet.state_dir / "logs").rglob("*") if p.is_file())
    names = {p.name for p in logs}
    assert {"auth.log", "gateway-access.log", "gateway.log"} <= names, names
    text = {p.name: p.read_text(errors="replace") for p in logs}
    assert "login_succeeded" in text["auth.log"]  # the audit trail is there ...
    assert "/api/v1/auth/refresh" in text["gateway-access.log"]
    secrets = set(auth_fleet.secrets)
    assert len(secrets) > 10
    for name, content in text.items():
        leaked = [s[:12] for s in secrets if s in content]
        assert not leaked, f"{name} contains secrets starting with {leaked}"
        assert "Bearer ey" not in content
