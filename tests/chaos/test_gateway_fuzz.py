"""Hostile input through the gateway, then a secrets scan over every log the fleet wrote.

Schemathesis generates requests from each catalog service's own OpenAPI (the operations the
gateway routes to it) and sends them through the gateway, once with a casual user's token and
once with the admin's: no server error, every answer the JSON envelope, and no answer echoing a
secret the request submitted. Bounded: ``MAX_EXAMPLES`` cases per operation and generation mode.
Runs after ``test_fleet_chaos.py`` on the same fleet, so it also shows the fleet whole again.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from cp_fleet.catalog import ServiceEntry

from .chaos_fleet import CATALOG, ChaosFleet, envelope_problem

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 3
PASSWORD = "Chaos-Fuzz-Password-7"
#: Answers about the whole fleet: its documented 503 is not a server error of one service.
FLEET_HEALTH = "/api/v1/health"
#: Answers whose format a standard fixes (a JWK Set, RFC 7517), not the envelope, when they succeed.
STANDARD_DOCUMENTS = {"/.well-known/jwks.json"}
#: The orchestrator's documented answers when a layer cannot serve (this fleet trains no models, so
#: no cascade completes): a named dependency outage in the envelope, not a server error.
LAYER_UNAVAILABLE = re.compile(
    r'"error":"(Layer [1-4] service unavailable|no cascade run has completed yet)"'
)
SECRET_FIELD = re.compile(r"password|secret|token", re.IGNORECASE)
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(scope="module")
def tokens(chaos_fleet: ChaosFleet) -> dict[str, str]:
    """``casual`` and ``admin`` access tokens, logged in through the gateway."""
    email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
    admin = ("admin@cryptopredict.local", chaos_fleet.admin_password())
    chaos_fleet.secrets.append(PASSWORD)
    found: dict[str, str] = {}
    with httpx.Client(base_url=chaos_fleet.gateway, timeout=30) as client:
        registered = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        for role, (login_email, password) in {"casual": (email, PASSWORD), "admin": admin}.items():
            login = client.post("/api/v1/auth/login", json={"email": login_email, "password": password})
            assert login.status_code == 200, login.text
            data = login.json()["data"]
            chaos_fleet.secrets += [data["access_token"], data.get("refresh_token", "")]
            found[role] = data["access_token"]
    chaos_fleet.secrets[:] = [s for s in chaos_fleet.secrets if s]
    return found


def routed(path: str, service: ServiceEntry) -> bool:
    return any(path.startswith(p) or path == p.rstrip("/") for p in service.public_prefixes)


def submitted_secrets(case: schemathesis.Case) -> list[str]:
    """String values the request sent under a secret-looking name (password, token, ...)."""
    found: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and len(value) >= 8 and SECRET_FIELD.search(key):
            found.append(value)

    walk(case.body)
    walk(case.query)
    return found


def fuzz_through_gateway(
    fleet: ChaosFleet, service: ServiceEntry, headers_for: Callable[[schemathesis.Case], dict[str, str]]
) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{service.http_port}/openapi.json")
    calls = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not routed(operation.path, service):
            continue
        has_input = bool(operation.path_parameters or operation.query or operation.body)
        modes = (
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,)
        )
        for mode in modes:

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=fleet.gateway, headers=headers_for(case), timeout=15)
                layer_outage = response.status_code == 503 and LAYER_UNAVAILABLE.search(response.text)
                if case.path != FLEET_HEALTH and not layer_outage:
                    case.validate_response(response, checks=[not_a_server_error])
                if case.path not in STANDARD_DOCUMENTS or response.status_code != 200:
                    problem = envelope_problem(content_type(response.headers), response.text)
                    assert problem is None, f"{response.status_code}: {problem}"
                echoed = [s[:6] for s in submitted_secrets(case) if s in response.text]
                assert not echoed, f"answer echoes submitted secrets starting with {echoed}"

            try:
                run()
            except Exception as exc:  # every operation runs; failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {exc}"[:1500])
    return calls, failures


def content_type(headers: Any) -> str:
    """The Content-Type of a schemathesis response (header values come as lists)."""
    for key, value in dict(headers).items():
        if key.lower() == "content-type":
            return ",".join(value) if isinstance(value, list) else str(value)
    return ""


def _services_with_api() -> Iterator[str]:
    for service in CATALOG.services:
        if service.public_prefixes:
            yield service.name


@pytest.mark.parametrize("role", ["casual", "admin"])
@pytest.mark.parametrize("name", list(_services_with_api()))
def test_fuzz_every_service_through_the_gateway(
    chaos_fleet: ChaosFleet, tokens: dict[str, str], name: str, role: str
) -> None:
    service = chaos_fleet.service(name)
    token = tokens[role]

    def headers_for(case: schemathesis.Case) -> dict[str, str]:
        # a generated logout would revoke the token for the rest of the run
        return {} if case.path.endswith("/logout") else {"Authorization": f"Bearer {token}"}

    calls, failures = fuzz_through_gateway(chaos_fleet, service, headers_for)
    print(f"{name} as {role}: {calls} fuzzed calls through the gateway")
    assert calls >= MAX_EXAMPLES, f"{name}: nothing routed to it was fuzzed"
    assert not failures, "\n\n".join(failures)


async def test_no_secret_in_any_log_after_the_suite(chaos_fleet: ChaosFleet, tokens: dict[str, str]) -> None:
    await asyncio.sleep(0.5)  # let the last access-log lines land
    logs = sorted(p for p in (chaos_fleet.state_dir / "logs").rglob("*") if p.is_file())
    names = {p.name for p in logs}
    assert {"auth.log", "gateway-access.log"} <= names, names
    assert len(chaos_fleet.secrets) >= 5
    for path in logs:
        content = path.read_text(errors="replace")
        leaked = [s[:6] for s in chaos_fleet.secrets if s in content]
        assert not leaked, f"{path.name} contains secrets starting with {leaked}"
        assert "Bearer ey" not in content, path.name
