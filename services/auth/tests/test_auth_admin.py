"""Admin-only user management: role checks, listing, role changes, deactivation, last admin."""

from __future__ import annotations

import pytest

from .auth_testing import PASSWORD, RunningAuth, bearer, new_email, running_auth


@pytest.mark.parametrize("role", ["casual", "professional"])
async def test_non_admins_get_403_on_admin_routes(auth: RunningAuth, role: str) -> None:
    user, tokens = await auth.user_with_role(role)
    headers = bearer(tokens["access_token"])
    async with auth.client() as client:
        for method, path, body in [
            ("GET", "/api/v1/auth/users", None),
            ("GET", f"/api/v1/auth/users/{user['id']}", None),
            ("PUT", f"/api/v1/auth/users/{user['id']}/role", {"role": "admin"}),
            ("POST", f"/api/v1/auth/users/{user['id']}/deactivate", None),
        ]:
            response = await client.request(method, path, headers=headers, json=body)
            assert response.status_code == 403, (path, response.text)
            assert response.json() == {
                "success": False,
                "error": "Admin privileges required",
                "error_code": 403,
                "timestamp": response.json()["timestamp"],
                "request_id": response.headers["x-request-id"],
            }


async def test_admin_routes_need_a_token(auth: RunningAuth) -> None:
    async with auth.client() as client:
        response = await client.get("/api/v1/auth/users")
    assert response.status_code == 401


async def test_admin_lists_with_filters_and_pages(auth: RunningAuth) -> None:
    _, admin = await auth.user_with_role("admin")
    tag = new_email("page").split("@")[0]
    for index in range(5):
        await auth.register(f"{tag}-{index}@example.com")
    headers = bearer(admin["access_token"])
    async with auth.client() as client:
        first = await client.get(
            "/api/v1/auth/users", params={"email": tag, "limit": 2, "offset": 0}, headers=headers
        )
        assert first.status_code == 200, first.text
        page = first.json()["data"]
        assert page["total"] == 5 and page["limit"] == 2 and len(page["items"]) == 2
        rest = await client.get(
            "/api/v1/auth/users", params={"email": tag, "limit": 10, "offset": 2}, headers=headers
        )
        emails = [u["email"] for u in page["items"] + rest.json()["data"]["items"]]
        assert emails == [f"{tag}-{i}@example.com" for i in range(5)]
        admins = await client.get(
            "/api/v1/auth/users", params={"role": "admin", "limit": 200}, headers=headers
        )
        assert {u["role"] for u in admins.json()["data"]["items"]} == {"admin"}
        bad = await client.get("/api/v1/auth/users", params={"limit": 0}, headers=headers)
        assert bad.status_code == 422
        unknown_role = await client.get("/api/v1/auth/users", params={"role": "root"}, headers=headers)
        assert unknown_role.status_code == 422


async def test_role_change_takes_effect_at_the_next_refresh(auth: RunningAuth) -> None:
    _, admin = await auth.user_with_role("admin")
    user = await auth.register()
    tokens = await auth.login(user["email"])
    async with auth.client() as client:
        before = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert before.json()["data"]["role"] == "casual"  # this answer is now kept (pre-serialised)
        changed = await client.put(
            f"/api/v1/auth/users/{user['id']}/role",
            headers=bearer(admin["access_token"]),
            json={"role": "professional"},
        )
        assert changed.status_code == 200 and changed.json()["data"]["role"] == "professional"
        # tokens carrying the old role stop working at once ...
        old = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert old.status_code == 401
        # ... and the session continues with the new role
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        principal = await auth.components.verifier.verify(refreshed.json()["data"]["access_token"])
        assert principal.role == "professional"
        # the change dropped the kept answer: the new token's /me shows the new role at once
        me = await client.get("/api/v1/auth/me", headers=bearer(refreshed.json()["data"]["access_token"]))
        assert me.status_code == 200 and me.json()["data"]["role"] == "professional"
        invalid = await client.put(
            f"/api/v1/auth/users/{user['id']}/role",
            headers=bearer(admin["access_token"]),
            json={"role": "god"},
        )
        assert invalid.status_code == 422
        missing = await client.put(
            "/api/v1/auth/users/7a1c9a52-0000-4000-8000-000000000000/role",
            headers=bearer(admin["access_token"]),
            json={"role": "casual"},
        )
        assert missing.status_code == 404
        junk_id = await client.get("/api/v1/auth/users/not-a-uuid", headers=bearer(admin["access_token"]))
        assert junk_id.status_code == 404


async def test_deactivation_ends_sessions_and_reactivation_restores_login(auth: RunningAuth) -> None:
    _, admin = await auth.user_with_role("admin")
    user = await auth.register()
    tokens = await auth.login(user["email"])
    admin_headers = bearer(admin["access_token"])
    async with auth.client() as client:
        off = await client.post(f"/api/v1/auth/users/{user['id']}/deactivate", headers=admin_headers)
        assert off.status_code == 200 and off.json()["data"]["is_active"] is False
        assert (
            await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        ).status_code == 401
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
        login = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert login.status_code == 401 and login.json()["error"] == "Account is deactivated"
        listed = await client.get(
            "/api/v1/auth/users", params={"active": "false", "email": user["email"]}, headers=admin_headers
        )
        assert [u["id"] for u in listed.json()["data"]["items"]] == [user["id"]]

        on = await client.post(f"/api/v1/auth/users/{user['id']}/reactivate", headers=admin_headers)
        assert on.status_code == 200 and on.json()["data"]["is_active"] is True
    await auth.login(user["email"])


async def test_the_last_active_admin_cannot_be_removed(auth_settings) -> None:
    async with running_auth(auth_settings()) as fresh:
        admin_user, admin = await fresh.user_with_role("admin")
        headers = bearer(admin["access_token"])
        async with fresh.client() as client:
            demote = await client.put(
                f"/api/v1/auth/users/{admin_user['id']}/role", headers=headers, json={"role": "casual"}
            )
            assert demote.status_code == 409
            assert demote.json()["error"] == "The last active admin cannot be demoted or deactivated"
            deactivate = await client.post(
                f"/api/v1/auth/users/{admin_user['id']}/deactivate", headers=headers
            )
            assert deactivate.status_code == 409
            # with a second admin, the first may step down
            second_user, _ = await fresh.user_with_role("admin")
            demote = await client.put(
                f"/api/v1/auth/users/{admin_user['id']}/role", headers=headers, json={"role": "casual"}
            )
            assert demote.status_code == 200
            assert second_user["id"] != admin_user["id"]
