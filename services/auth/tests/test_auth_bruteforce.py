"""Brute-force protection: account lockout, per-IP throttling, and answers that reveal nothing.

This module runs its own app with argon2id parameters closer to production, so that the hash
dominates the login time and a missing dummy verification would show in the timings.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from auth_service.audit import LOGIN_ATTEMPTS

from .auth_testing import PASSWORD, RunningAuth, new_email, running_auth

IP_LIMIT = 45
REAL_ARGON2 = {"auth_argon2_time_cost": 2, "auth_argon2_memory_kib": 32768, "auth_argon2_parallelism": 1}


@pytest.fixture(scope="module")
async def guarded(auth_settings) -> AsyncIterator[RunningAuth]:
    settings = auth_settings(auth_ip_failure_limit=IP_LIMIT, **REAL_ARGON2)
    async with running_auth(settings) as running:
        yield running


async def _login(client: httpx.AsyncClient, email: str, password: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response, time.perf_counter() - started


def _shape(response: httpx.Response) -> tuple[int, str, list[str], str | None]:
    body = response.json()
    return response.status_code, body["error"], sorted(body), response.headers.get("www-authenticate")


async def test_nineteen_failures_do_not_lock_and_a_success_resets_the_count(guarded: RunningAuth) -> None:
    user = await guarded.register()
    async with guarded.client("10.1.0.1") as client:
        for _ in range(19):
            response, _ = await _login(client, user["email"], "Wrong-Password-1")
            assert response.status_code == 401
        ok, _ = await _login(client, user["email"], PASSWORD)
        assert ok.status_code == 200
        for _ in range(19):
            response, _ = await _login(client, user["email"], "Wrong-Password-1")
        ok, _ = await _login(client, user["email"], PASSWORD)
        assert ok.status_code == 200


async def test_twenty_wrong_passwords_lock_the_account(guarded: RunningAuth, caplog) -> None:
    user = await guarded.register()
    locked_before = LOGIN_ATTEMPTS.labels("locked")._value.get()
    async with guarded.client("10.1.0.2") as client:
        wrong = [await _login(client, user["email"], f"Wrong-Password-{i}") for i in range(20)]
        assert {r.status_code for r, _ in wrong} == {401}
        right, _ = await _login(client, user["email"], PASSWORD)
    assert (
        _shape(right)
        == _shape(wrong[0][0])
        == (
            401,
            "Invalid email or password",
            ["error", "error_code", "request_id", "success", "timestamp"],
            "Bearer",
        )
    )
    assert LOGIN_ATTEMPTS.labels("locked")._value.get() == locked_before + 1
    locked_events = [r for r in caplog.records if getattr(r, "audit_event", None) == "account_locked"]
    assert [r.user_id for r in locked_events] == [user["id"]]
    # other accounts are not affected
    other = await guarded.register()
    await guarded.login(other["email"], ip="10.1.0.2")


async def test_lockout_and_unknown_email_answers_are_indistinguishable(guarded: RunningAuth) -> None:
    locked = await guarded.register()
    async with guarded.client("10.1.0.3") as client:
        for i in range(20):
            await _login(client, locked["email"], f"Wrong-Password-{i}")
    rounds, warm_up = 20, 3
    locked_times, unknown_times, hash_times = [], [], []
    async with guarded.client("10.1.0.4") as client:
        for i in range(rounds):
            # the right password, refused while locked; the order alternates to cancel drift
            if i % 2:
                unknown_answer, unknown_time = await _login(client, new_email("nobody"), PASSWORD)
                locked_answer, locked_time = await _login(client, locked["email"], PASSWORD)
            else:
                locked_answer, locked_time = await _login(client, locked["email"], PASSWORD)
                unknown_answer, unknown_time = await _login(client, new_email("nobody"), PASSWORD)
            assert _shape(locked_answer) == _shape(unknown_answer)
            assert len(locked_answer.content) - len(unknown_answer.content) in range(-2, 3)
            started = time.perf_counter()  # the cost of one verification, in the same conditions
            await guarded.components.hasher.verify_dummy(PASSWORD)
            if i >= warm_up:
                locked_times.append(locked_time)
                unknown_times.append(unknown_time)
                hash_times.append(time.perf_counter() - started)
    locked_median, unknown_median = statistics.median(locked_times), statistics.median(unknown_times)
    hash_median = statistics.median(hash_times)
    # Differences within a round (adjacent in time) are robust to the load drifting between rounds.
    paired = statistics.median(a - b for a, b in zip(locked_times, unknown_times, strict=True))
    print(
        f"login medians: locked {locked_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms, "
        f"paired difference {paired * 1000:.1f} ms, one argon2 verification {hash_median * 1000:.1f} ms"
    )
    # Both answers do one argon2 verification; skipping it in either path would shift it by a
    # whole hash time. Allow half of that for the noise of a shared machine.
    assert abs(paired) < 0.5 * hash_median
    assert min(locked_median, unknown_median) > 0.5 * hash_median


async def test_one_client_ip_over_its_failure_budget_gets_429(guarded: RunningAuth) -> None:
    async with guarded.client("10.1.0.5") as client:
        codes = [
            (await _login(client, new_email("spray"), "Wrong-Password-1"))[0].status_code
            for _ in range(IP_LIMIT)
        ]
        assert set(codes) == {401}
        refused, _ = await _login(client, new_email("spray"), "Wrong-Password-1")
        assert refused.status_code == 429
        assert refused.json()["error"] == "Too many failed logins from this address; try again later"
    # another client is still served
    user = await guarded.register()
    await guarded.login(user["email"], ip="10.1.0.6")


async def test_malformed_emails_get_the_ordinary_failure(guarded: RunningAuth) -> None:
    async with guarded.client("10.1.0.7") as client:
        malformed, _ = await _login(client, "not an email", PASSWORD)
        unknown, _ = await _login(client, new_email("nobody"), PASSWORD)
        oversized = await client.post("/api/v1/auth/login", json={"email": "a" * 400, "password": "x"})
    assert _shape(malformed) == _shape(unknown)
    assert oversized.status_code == 422 and "a" * 50 not in oversized.text
