"""Register, login, me, refresh (rotation and reuse), logout and password change, in-process."""

from __future__ import annotations

import jwt
import pytest

from cp_common.security.jwt_verifier import REQUIRED_CLAIMS

from .auth_testing import PASSWORD, RunningAuth, bearer, new_email


async def test_register_login_me_refresh_logout(auth: RunningAuth) -> None:
    email = new_email()
    user = await auth.register(email)
    assert user["role"] == "casual" and user["is_active"] is True and user["last_login_at"] is None
    assert "password" not in str(user) and "hash" not in str(user)

    async with auth.client() as client:
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200
        assert login.headers["cache-control"] == "no-store"
        tokens = login.json()["data"]
        assert tokens["token_type"] == "Bearer"
        assert 0 < tokens["expires_in"] <= 900
        assert tokens["user"]["email"] == email

        me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
        assert me.json()["data"]["id"] == user["id"] and me.json()["data"]["last_login_at"]

        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        pair = refreshed.json()["data"]
        assert pair["refresh_token"] != tokens["refresh_token"]
        assert pair["access_token"] != tokens["access_token"]
        assert (await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).status_code == 200

        out = await client.post(
            "/api/v1/auth/logout",
            headers=bearer(pair["access_token"]),
            json={"refresh_token": pair["refresh_token"]},
        )
        assert out.status_code == 200 and out.json()["data"] == {"logged_out": True}

        after = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
        assert after.status_code == 401 and after.json()["error"] == "token revoked"
        # the earlier access token of the same session is revoked too
        earlier = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert earlier.status_code == 401
        again = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert again.status_code == 401


async def test_access_token_claims(auth: RunningAuth) -> None:
    email = new_email()
    user = await auth.register(email)
    tokens = await auth.login(email)
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"] == auth.components.keyring.signing_key().kid
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert claims["sub"] == user["id"] and claims["email"] == email and claims["role"] == "casual"
    assert claims["iss"] == "cryptopredict-auth" and claims["aud"] == "cryptopredict"
    assert claims["exp"] - claims["iat"] == 900


async def test_reusing_a_rotated_refresh_token_revokes_the_family(auth: RunningAuth) -> None:
    email = new_email()
    await auth.register(email)
    first = await auth.login(email)
    other_session = await auth.login(email)
    async with auth.client() as client:
        second = (
            await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()["data"]
        # the thief (or the victim) presents the rotated token again
        reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reuse.status_code == 401
        assert reuse.json()["error"] == "Refresh token was already used; the session has been revoked"
        # every token of that family is dead: the newest refresh token and its access token
        newest = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert newest.status_code == 401
        me = await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
        assert me.status_code == 401 and me.json()["error"] == "token revoked"
        # another login (another family) is unaffected
        other = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
        )
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("token", "status"), [("", 422), ("x" * 300, 422), ("x" * 200, 401), ("not-a-token-we-issued", 401)]
)
async def test_unknown_refresh_tokens_are_refused(auth: RunningAuth, token: str, status: int) -> None:
    async with auth.client() as client:
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code == status
    assert response.json()["success"] is False
    if status == 401:
        assert response.json()["error"] == "Invalid refresh token"


async def test_logout_without_a_token_is_401(auth: RunningAuth) -> None:
    async with auth.client() as client:
        response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_change_password_ends_other_sessions(auth: RunningAuth) -> None:
    email = new_email()
    await auth.register(email)
    mine = await auth.login(email)
    other = await auth.login(email)
    new_password = "Another-Secret-77"
    async with auth.client() as client:
        wrong = await client.put(
            "/api/v1/auth/me/password",
            headers=bearer(mine["access_token"]),
            json={"current_password": "Wrong-Password-1", "new_password": new_password},
        )
        assert wrong.status_code == 401
        weak = await client.put(
            "/api/v1/auth/me/password",
            headers=bearer(mine["access_token"]),
            json={"current_password": PASSWORD, "new_password": "weakweakweak"},
        )
        assert weak.status_code == 400
        assert "weakweakweak" not in weak.text and "upper-case" in weak.json()["error"]
        changed = await client.put(
            "/api/v1/auth/me/password",
            headers=bearer(mine["access_token"]),
            json={"current_password": PASSWORD, "new_password": new_password},
        )
        assert changed.status_code == 200
        fresh = changed.json()["data"]
        assert (await client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=bearer(other["access_token"]))).status_code == 401
        assert (await client.get("/api/v1/auth/me", headers=bearer(mine["access_token"]))).status_code == 401
        stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert stale.status_code == 401
        old = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
    await auth.login(email, new_password)
