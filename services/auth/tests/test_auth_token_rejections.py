"""Forged and stale access tokens are refused with 401 and the error envelope."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from .auth_testing import RunningAuth, bearer, new_email

ENVELOPE_KEYS = {"success", "error", "error_code", "timestamp", "request_id"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": user["id"],
        "role": "admin",
        "email": user["email"],
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "iss": "cryptopredict-auth",
        "aud": "cryptopredict",
    }
    claims.update(overrides)
    return claims


def forged_tokens(auth: RunningAuth, user: dict[str, Any], genuine: str) -> dict[str, str]:
    key = auth.components.keyring.signing_key()

    def signed(**overrides: Any) -> str:
        return jwt.encode(
            _claims(user, **overrides), key.private_key, algorithm="EdDSA", headers={"kid": key.kid}
        )

    header, payload, signature = genuine.split(".")
    elevated = json.loads(base64.urlsafe_b64decode(payload + "=="))
    elevated["role"] = "admin"
    unsigned_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode())
    stranger = ed25519.Ed25519PrivateKey.generate()
    return {
        "expired": signed(iat=int(time.time()) - 3600, exp=int(time.time()) - 120),
        "tampered": f"{header}.{_b64(json.dumps(elevated).encode())}.{signature}",
        "alg_none": f"{unsigned_header}.{_b64(json.dumps(_claims(user)).encode())}.",
        "wrong_key": jwt.encode(_claims(user), stranger, algorithm="EdDSA", headers={"kid": key.kid}),
        "unknown_kid": jwt.encode(
            _claims(user), stranger, algorithm="EdDSA", headers={"kid": "20200101T000000Z-beef"}
        ),
        "wrong_audience": signed(aud="someone-else"),
        "wrong_issuer": signed(iss="evil-auth"),
        "hs256_with_public_key": jwt.encode(
            _claims(user),
            "the-public-key-misused-as-an-hmac-secret",
            algorithm="HS256",
            headers={"kid": key.kid},
        ),
        "missing_claim": jwt.encode(
            {k: v for k, v in _claims(user).items() if k != "jti"},
            key.private_key,
            algorithm="EdDSA",
            headers={"kid": key.kid},
        ),
        "garbage": "not.a.jwt",
    }


@pytest.fixture(scope="module")
async def victim(auth: RunningAuth) -> tuple[dict[str, Any], dict[str, str]]:
    user = await auth.register(new_email("victim"))
    tokens = await auth.login(user["email"])
    return user, forged_tokens(auth, user, tokens["access_token"])


@pytest.mark.parametrize(
    "kind",
    [
        "expired",
        "tampered",
        "alg_none",
        "wrong_key",
        "unknown_kid",
        "wrong_audience",
        "wrong_issuer",
        "hs256_with_public_key",
        "missing_claim",
        "garbage",
    ],
)
async def test_forged_or_stale_tokens_get_401(auth: RunningAuth, victim, kind: str) -> None:
    _, tokens = victim
    async with auth.client() as client:
        response = await client.get("/api/v1/auth/me", headers=bearer(tokens[kind]))
        admin = await client.get("/api/v1/auth/users", headers=bearer(tokens[kind]))
    for answer in (response, admin):
        assert answer.status_code == 401, (kind, answer.text)
        body = answer.json()
        assert set(body) == ENVELOPE_KEYS
        assert body["success"] is False and body["error_code"] == 401
        assert body["error"] == ("token expired" if kind == "expired" else "invalid token")
        assert tokens[kind] not in answer.text


async def test_a_genuine_admin_token_is_accepted(auth: RunningAuth) -> None:
    _, admin = await auth.user_with_role("admin")
    async with auth.client() as client:
        response = await client.get("/api/v1/auth/users", headers=bearer(admin["access_token"]))
    assert response.status_code == 200
