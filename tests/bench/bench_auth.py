"""Auth benchmark: login throughput, token-verification throughput, and what the gateway adds.

Runs the auth service as a real process (production argon2id parameters) on embedded
PostgreSQL, Redis and Kafka, with Nginx in front rendered from a catalog like the deploy one
(rate limits raised so they do not interfere). Figures compare against baselines measured in the
same run: login throughput against raw argon2id verifications (same parameters, same
concurrency), verification with the Redis denylist against signature checking alone, and the
gateway's latency against calling the service directly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import argon2
import httpx

from cp_common.cache import create_redis
from cp_common.security import JwtVerifier
from cp_common.security.denylist import TokenDenylist
from cp_fleet.catalog import Catalog
from cp_fleet.embedded import EmbeddedInfra, NginxServer, find_free_port
from cp_fleet.nginx_config import render_gateway_config
from cp_fleet.processes import ServerCommand, ServerProcess
from cp_fleet.readiness import http_status
from cp_fleet.system_user import infra_user

PASSWORD = "Bench-Password-77"
USERS = 8
LOGIN_CONCURRENCY = 4
LOGIN_SECONDS = 8.0
VERIFY_SECONDS = 3.0
ARGON2_SECONDS = 4.0
LATENCY_ROUNDS = 300


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _start_auth(state_dir: Path, infra_env: dict[str, str], port: int) -> ServerProcess:
    env = {
        **infra_env,
        "SERVICE_NAME": "auth",
        "ENVIRONMENT": "test",
        "HTTP_PORT": str(port),
        "GRPC_PORT": "0",
        "LOG_LEVEL": "WARNING",
        "AUTH_REGISTER_LIMIT": "100000",
        "AUTH_IP_FAILURE_LIMIT": "100000",
        "PYTHONUNBUFFERED": "1",
    }
    command = ServerCommand(
        name="auth",
        argv=(sys.executable, "-m", "auth_service"),
        readiness=http_status(f"http://127.0.0.1:{port}/readyz"),
        env=env,
        cwd=state_dir,
        port=port,
        start_timeout_s=90,
    )
    process = ServerProcess(command, state_dir / "logs" / "auth.log", state_dir)
    process.start()
    process.wait_ready()
    return process


def _start_gateway(state_dir: Path, auth_port: int, gateway_port: int) -> ServerProcess:
    fast = {"rate": "100000r/s", "burst": 1000}
    catalog = Catalog.model_validate(
        {
            "gateway": {"port": gateway_port, "rate_limits": {"api": fast, "auth": fast, "health": fast}},
            "services": [
                {
                    "name": "auth",
                    "command": "python -m auth_service",
                    "http_port": auth_port,
                    "public_prefixes": ["/api/v1/auth/", "/.well-known/jwks.json"],
                }
            ],
        }
    )
    prefix = state_dir / "gateway"
    config = prefix / "nginx.conf"
    prefix.mkdir(parents=True, exist_ok=True)
    config.write_text(render_gateway_config(catalog, access_log=Path("access.log")))
    server = NginxServer(prefix, config, gateway_port, user=infra_user())
    server.prepare()
    server.check_config()
    process = ServerProcess(server.command(), state_dir / "logs" / "gateway.log", state_dir)
    process.start()
    process.wait_ready(30)
    return process


async def _register_users(base_url: str) -> list[str]:
    emails = [f"bench-{uuid.uuid4().hex[:8]}@example.com" for _ in range(USERS)]
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for email in emails:
            response = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
    return emails


async def _login_throughput(base_url: str, emails: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + LOGIN_SECONDS

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        n = index
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/auth/login", json={"email": emails[n % len(emails)], "password": PASSWORD}
            )
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)
            n += LOGIN_CONCURRENCY

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await asyncio.gather(*(worker(i, client) for i in range(LOGIN_CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {
        "logins_per_s": round(len(latencies) / elapsed, 1),
        "login_p50_ms": _ms(statistics.median(latencies)),
        "login_p95_ms": _ms(_percentile(latencies, 0.95)),
        "concurrency": LOGIN_CONCURRENCY,
    }


async def _rate(operation: Callable[[], Awaitable[object]], seconds: float) -> float:
    count = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(50):
            await operation()
        count += 50
    return count / (time.perf_counter() - started)


async def _verification_throughput(gateway_url: str, redis_url: str, token: str) -> dict[str, float]:
    jwks_url = f"{gateway_url}/.well-known/jwks.json"
    plain = JwtVerifier(jwks_url, issuer="cryptopredict-auth", audience="cryptopredict")
    redis = create_redis(redis_url)
    with_denylist = JwtVerifier(
        jwks_url,
        issuer="cryptopredict-auth",
        audience="cryptopredict",
        is_revoked=TokenDenylist(redis).is_revoked,
    )
    try:
        await plain.verify(token)
        await with_denylist.verify(token)
        signature_only = await _rate(lambda: plain.verify(token), VERIFY_SECONDS)
        denylisted = await _rate(lambda: with_denylist.verify(token), VERIFY_SECONDS)
    finally:
        await plain.aclose()
        await with_denylist.aclose()
        await redis.aclose()
    return {
        "verifications_per_s": round(signature_only, 1),
        "verifications_with_denylist_per_s": round(denylisted, 1),
        "denylist_cost_ratio": round(signature_only / denylisted, 2),
        "jwks_fetches": plain.fetch_count,
    }


def _latency(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def _gateway_overhead(direct: str, gateway: str, token: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as client:
        for name, path in (("me", "/api/v1/auth/me"), ("jwks", "/.well-known/jwks.json")):
            samples: dict[str, list[float]] = {"direct": [], "gateway": []}
            for _ in range(20):  # warm-up: connections, key cache
                _latency(client, direct + path, headers)
                _latency(client, gateway + path, headers)
            for _ in range(LATENCY_ROUNDS):  # interleaved, so drift hits both alike
                samples["direct"].append(_latency(client, direct + path, headers))
                samples["gateway"].append(_latency(client, gateway + path, headers))
            direct_p50 = statistics.median(samples["direct"])
            gateway_p50 = statistics.median(samples["gateway"])
            figures[f"{name}_direct_p50_ms"] = _ms(direct_p50)
            figures[f"{name}_gateway_p50_ms"] = _ms(gateway_p50)
            figures[f"{name}_gateway_added_p50_ms"] = _ms(gateway_p50 - direct_p50)
            figures[f"{name}_gateway_ratio_p50"] = round(gateway_p50 / direct_p50, 2)
            figures[f"{name}_gateway_ratio_p95"] = round(
                _percentile(samples["gateway"], 0.95) / _percentile(samples["direct"], 0.95), 2
            )
    return figures


def _argon2_baseline() -> dict[str, float]:
    """Raw argon2id verifications per second with the service's default parameters and the same
    concurrency: the floor any login path is bound by."""
    from concurrent.futures import ThreadPoolExecutor

    from auth_service.settings import AuthSettings

    settings = AuthSettings()
    hasher = argon2.PasswordHasher(
        time_cost=settings.auth_argon2_time_cost,
        memory_cost=settings.auth_argon2_memory_kib,
        parallelism=settings.auth_argon2_parallelism,
    )
    stored = hasher.hash(PASSWORD)
    deadline = time.perf_counter() + ARGON2_SECONDS

    def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            hasher.verify(stored, PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(LOGIN_CONCURRENCY) as pool:
        total = sum(pool.map(lambda _: worker(), range(LOGIN_CONCURRENCY)))
    return {"argon2_verifications_per_s": round(total / (time.perf_counter() - started), 1)}


def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="cp-bench-auth-")).resolve()
    path.chmod(0o755)
    return path


async def run() -> dict:
    state_dir = _state_dir()
    environ = {k: v for k, v in os.environ.items() if k != "CP_STATE_DIR"}
    infra = EmbeddedInfra(state_dir, environ=environ, durable=False)
    processes: list[ServerProcess] = []
    try:
        infra_env = infra.start().as_env()
        auth_port, gateway_port = find_free_port(), find_free_port()
        processes.append(_start_auth(state_dir, infra_env, auth_port))
        processes.append(_start_gateway(state_dir, auth_port, gateway_port))
        direct, gateway = f"http://127.0.0.1:{auth_port}", f"http://127.0.0.1:{gateway_port}"

        emails = await _register_users(direct)
        login = await _login_throughput(direct, emails)
        baseline = await asyncio.to_thread(_argon2_baseline)
        login["login_vs_argon2_ratio"] = round(
            baseline["argon2_verifications_per_s"] / login["logins_per_s"], 2
        )
        async with httpx.AsyncClient(base_url=direct, timeout=60) as client:
            tokens = (
                await client.post("/api/v1/auth/login", json={"email": emails[0], "password": PASSWORD})
            ).json()["data"]
        verification = await _verification_throughput(gateway, infra_env["REDIS_URL"], tokens["access_token"])
        overhead = await asyncio.to_thread(_gateway_overhead, direct, gateway, tokens["access_token"])
        return {**login, **baseline, **verification, **overhead}
    finally:
        for process in reversed(processes):
            process.stop()
        infra.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
