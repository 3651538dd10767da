"""Bad input to every auth parameter (query, path and body fields) gets a 4xx envelope, never a
500: NUL and other control characters, huge numbers, oversized strings, wrong types."""

from __future__ import annotations

from typing import Any

import pytest

from .auth_testing import RunningAuth, bearer

HUGE = "9" * 400
CONTROL = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "a\r\nSet-Cookie: x=1"]
USERS = "/api/v1/auth/users"


@pytest.fixture(scope="module")
async def admin_token(auth: RunningAuth) -> str:
    _, login = await auth.user_with_role("admin")
    return login["access_token"]


def _assert_refused(response: Any, *allowed: int) -> dict[str, Any]:
    body = response.json()
    assert response.status_code in allowed, (response.status_code, body)
    assert body["success"] is False and body["error_code"] == response.status_code
    return body


QUERY_CASES: list[dict[str, str]] = [
    *[{"email": value} for value in [*CONTROL, "e" * 255]],
    *[{"limit": value} for value in (HUGE, "-" + HUGE, "0", "201", "1e3", "1\x00", "")],
    *[{"offset": value} for value in (HUGE, "-1", "1000001", "x", "\x00")],
    *[{"role": value} for value in ("root", "admin\x00", "", HUGE)],
    *[{"active": value} for value in ("maybe", "\x00", HUGE)],
]


@pytest.mark.parametrize("query", QUERY_CASES)
async def test_user_list_parameters_refuse_bad_values(
    auth: RunningAuth, admin_token: str, query: dict
) -> None:
    async with auth.client() as client:
        response = await client.get(USERS, params=query, headers=bearer(admin_token))
    body = _assert_refused(response, 422)
    assert body["details"]


@pytest.mark.parametrize(
    "user_id", ["%00", "a%00b", "%1b", HUGE, "x" * 5000, "00000000-0000-0000-0000-00000000000%00"]
)
async def test_user_path_ids_refuse_bad_values(auth: RunningAuth, admin_token: str, user_id: str) -> None:
    async with auth.client() as client:
        response = await client.get(f"{USERS}/{user_id}", headers=bearer(admin_token))
        role = await client.put(
            f"{USERS}/{user_id}/role", json={"role": "casual"}, headers=bearer(admin_token)
        )
    _assert_refused(response, 404, 422)
    _assert_refused(role, 404, 422)


BODY_CASES: list[tuple[str, dict[str, Any]]] = [
    *[("/api/v1/auth/register", {"email": value, "password": "Correct-Horse-9"}) for value in CONTROL],
    *[("/api/v1/auth/register", {"email": "a@example.com", "password": value}) for value in CONTROL],
    *[("/api/v1/auth/login", {"email": value, "password": value}) for value in CONTROL],
    ("/api/v1/auth/login", {"email": 10**400, "password": "x"}),
    ("/api/v1/auth/login", {"email": ["a"], "password": {"b": 1}}),
    *[("/api/v1/auth/refresh", {"refresh_token": value}) for value in [*CONTROL, HUGE]],
    ("/api/v1/auth/refresh", {"refresh_token": 10**400}),
]


@pytest.mark.parametrize(("path", "body"), BODY_CASES)
async def test_body_fields_refuse_bad_values(auth: RunningAuth, path: str, body: dict[str, Any]) -> None:
    async with auth.client(ip="10.9.9.9") as client:
        response = await client.post(path, json=body)
    _assert_refused(response, 400, 401, 422)
