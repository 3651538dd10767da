"""Start-up: the bootstrap admin from configuration, the signing keys, the JWKS and key rotation."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from auth_service.bootstrap import GENERATED_PASSWORD_FILE, BootstrapError
from auth_service.domain.keys import KeyConfigurationError, generate_key

from .auth_testing import RunningAuth, bearer, new_email, running_auth

ADMIN_PASSWORD = "Bootstrap-Admin-42"


async def _login_status(running: RunningAuth, email: str, password: str) -> tuple[int, dict]:
    async with running.client() as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json()


async def test_bootstrap_admin_from_a_password_file(auth_settings, tmp_path: Path) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text(ADMIN_PASSWORD + "\n")
    email = new_email("admin")
    settings = auth_settings(
        auth_bootstrap_admin_email=email.upper(), auth_bootstrap_admin_password_file=secret
    )
    async with running_auth(settings) as running:
        status, body = await _login_status(running, email, ADMIN_PASSWORD)
        assert status == 200 and body["data"]["user"]["role"] == "admin"
        async with running.components.pool.acquire() as conn:
            events = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'users.v1'")
        assert events == 1
        # an admin may change the password; a restart with the bootstrap settings keeps it
        async with running.client() as client:
            changed = await client.put(
                "/api/v1/auth/me/password",
                headers=bearer(body["data"]["access_token"]),
                json={"current_password": ADMIN_PASSWORD, "new_password": "Changed-By-Admin-7"},
            )
        assert changed.status_code == 200
    restarted = settings.model_copy()
    async with running_auth(restarted) as running:
        assert (await _login_status(running, email, "Changed-By-Admin-7"))[0] == 200
        assert (await _login_status(running, email, ADMIN_PASSWORD))[0] == 401


async def test_bootstrap_admin_from_the_environment_variable(auth_settings) -> None:
    email = new_email("admin")
    settings = auth_settings(auth_bootstrap_admin_email=email, auth_bootstrap_admin_password=ADMIN_PASSWORD)
    async with running_auth(settings) as running:
        status, body = await _login_status(running, email, ADMIN_PASSWORD)
        assert status == 200 and body["data"]["user"]["role"] == "admin"


async def test_local_mode_generates_the_password_into_the_state_dir(auth_settings, capsys) -> None:
    email = new_email("admin")
    settings = auth_settings(auth_bootstrap_admin_email=email)
    async with running_auth(settings) as running:  # its JSON logs go to (captured) stdout
        path = settings.state_dir / GENERATED_PASSWORD_FILE
        password = path.read_text().strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert (await _login_status(running, email, password))[0] == 200
    logs = capsys.readouterr().out
    assert f"bootstrap admin password is in {path}" in logs
    assert password not in logs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth_bootstrap_admin_password": "short"}, "does not meet the policy"),
        ({"auth_bootstrap_admin_password_file": Path("/nonexistent/secret")}, "cannot be read"),
        ({"environment": "production"}, "neither AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE"),
    ],
)
async def test_unusable_bootstrap_configuration_stops_start_up(
    auth_settings, tmp_path, monkeypatch, overrides, message
) -> None:
    monkeypatch.setenv("MIGRATE_ON_START", "1")  # production mode leaves migrations to a job
    keys = tmp_path / "keys"
    generate_key(keys)
    settings = auth_settings(
        auth_bootstrap_admin_email=new_email("admin"), auth_signing_keys_dir=keys, **overrides
    )
    with pytest.raises(BootstrapError, match=message):
        async with running_auth(settings):
            pass


async def test_production_needs_a_key_directory_with_keys(auth_settings, tmp_path) -> None:
    with pytest.raises(ValueError, match="AUTH_SIGNING_KEYS_DIR is required in production"):
        auth_settings(environment="production")
    (tmp_path / "empty").mkdir()
    settings = auth_settings(environment="production", auth_signing_keys_dir=tmp_path / "empty")
    with pytest.raises(KeyConfigurationError, match="no signing key"):
        async with running_auth(settings):
            pass


async def test_jwks_and_rotation_without_restart(auth_settings) -> None:
    settings = auth_settings(auth_key_activation_delay_s=0)
    async with running_auth(settings) as running:
        async with running.client() as client:
            document = await client.get("/.well-known/jwks.json")
            assert document.status_code == 200
            assert document.headers["cache-control"] == "public, max-age=60"
            [first] = document.json()["keys"]
            assert first["kty"] == "OKP" and first["alg"] == "EdDSA" and "d" not in first
            assert (settings.state_dir / "auth-keys" / f"{first['kid']}.pem").exists()

            user = await running.register()
            old = await running.login(user["email"])
            second = generate_key(
                settings.signing_keys_dir, "RS256", now=datetime.now(UTC) + timedelta(seconds=1)
            )
            await asyncio.sleep(1.1)
            running.components.keyring.reload()  # what the watcher does every reload interval

            kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
            assert kids == {first["kid"], second.kid}
            new = await running.login(user["email"])
            assert jwt.get_unverified_header(new["access_token"]) == {
                "alg": "RS256",
                "kid": second.kid,
                "typ": "JWT",
            }
            # tokens signed by the previous key keep working until they expire
            assert (
                await client.get("/api/v1/auth/me", headers=bearer(old["access_token"]))
            ).status_code == 200
            assert (
                await client.get("/api/v1/auth/me", headers=bearer(new["access_token"]))
            ).status_code == 200
