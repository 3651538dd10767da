"""Every security event is one structured log line and a counter; no secret reaches either."""

from __future__ import annotations

import json
import re

from auth_service.audit import SecurityEvent

from .auth_testing import PASSWORD, bearer, new_email, running_auth


async def test_security_events_are_logged_and_counted_without_secrets(auth_settings, capsys) -> None:
    secrets_seen: list[str] = [PASSWORD, "Wrong-Guess-123", "Next-Password-456"]
    unknown_email = new_email("ghost")
    async with running_auth(auth_settings(auth_lockout_threshold=3)) as running:  # logs to stdout
        admin_user, admin = await running.user_with_role("admin")
        user = await running.register()
        async with running.client("10.9.0.1") as client:
            for _ in range(3):
                await client.post(
                    "/api/v1/auth/login", json={"email": user["email"], "password": "Wrong-Guess-123"}
                )
            await client.post(
                "/api/v1/auth/login", json={"email": unknown_email, "password": "Wrong-Guess-123"}
            )
            other = await running.register()
            tokens = (
                await client.post("/api/v1/auth/login", json={"email": other["email"], "password": PASSWORD})
            ).json()["data"]
            rotated = (
                await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            ).json()["data"]
            await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            again = await running.login(other["email"])
            await client.put(
                "/api/v1/auth/me/password",
                headers=bearer(again["access_token"]),
                json={"current_password": PASSWORD, "new_password": "Next-Password-456"},
            )
            await client.put(
                f"/api/v1/auth/users/{other['id']}/role",
                headers=bearer(admin["access_token"]),
                json={"role": "professional"},
            )
            await client.post(
                f"/api/v1/auth/users/{other['id']}/deactivate", headers=bearer(admin["access_token"])
            )
            await client.post("/api/v1/auth/logout", headers=bearer(admin["access_token"]))
            metrics = (await client.get("/metrics")).text
        secrets_seen += [
            tokens["access_token"],
            tokens["refresh_token"],
            rotated["access_token"],
            rotated["refresh_token"],
            again["access_token"],
            again["refresh_token"],
            admin["access_token"],
            admin["refresh_token"],
        ]
    output = capsys.readouterr().out
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    audit = [r for r in records if r.get("logger") == "auth_service.audit"]
    events = {r["audit_event"] for r in audit}
    assert events >= {
        SecurityEvent.REGISTERED,
        SecurityEvent.LOGIN_FAILED,
        SecurityEvent.ACCOUNT_LOCKED,
        SecurityEvent.LOGIN_SUCCEEDED,
        SecurityEvent.TOKEN_REFRESHED,
        SecurityEvent.REFRESH_TOKEN_REUSED,
        SecurityEvent.PASSWORD_CHANGED,
        SecurityEvent.ROLE_CHANGED,
        SecurityEvent.DEACTIVATED,
        SecurityEvent.LOGGED_OUT,
    }
    role_change = next(r for r in audit if r["audit_event"] == "role_changed")
    assert role_change["actor_id"] == admin_user["id"] and role_change["user_id"] == other["id"]
    assert role_change["from_role"] == "casual" and role_change["to_role"] == "professional"
    reuse = next(r for r in audit if r["audit_event"] == "refresh_token_reused")
    assert reuse["level"] == "warning" and reuse["client_ip"] == "10.9.0.1" and reuse["family_id"]
    ghost = [r for r in audit if r.get("reason") == "unknown_account"]
    assert ghost and "email_hash" in ghost[0] and "user_id" not in ghost[0]

    for secret in secrets_seen:
        assert secret not in output, "a password or token reached the logs"
    assert unknown_email not in output
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", output)

    for event in SecurityEvent:
        assert f'auth_security_events_total{{event="{event.value}"}}' in metrics
    assert 'auth_login_attempts_total{outcome="locked"}' in metrics
    assert 'auth_password_hash_seconds_count{operation="verify"}' in metrics
    labels = set(re.findall(r'^auth_security_events_total\{event="([^"]+)"\}', metrics, re.M))
    assert labels == {e.value for e in SecurityEvent}
