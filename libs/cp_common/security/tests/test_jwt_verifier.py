"""JwtVerifier against a real JWKS endpoint."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cp_common.errors import Unauthorized, Unavailable
from cp_common.security import JwtVerifier, Role
from cp_common.security.jwt_verifier import MSG_EXPIRED, MSG_INVALID, MSG_REVOKED

from .conftest import AUDIENCE, ISSUER, JwksServer, SigningKey, TokenFactory, claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: object) -> str:
    return b64url(json.dumps(value).encode())


async def refused(verifier: JwtVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    assert token not in str(caught.value)
    assert caught.value.status_code == 401
    return caught.value


async def test_valid_rs256_token(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    token = make_token(sub="user-7", role="admin", email="boss@example.com", jti="jti-1")
    principal = await verifier.verify(token)
    assert principal.user_id == "user-7"
    assert principal.role is Role.ADMIN and principal.is_admin
    assert principal.email == "boss@example.com"
    assert principal.jti == "jti-1"
    assert 290 <= principal.expires_at.timestamp() - time.time() <= 300


async def test_valid_eddsa_token(verifier: JwtVerifier, make_token: TokenFactory, ed_key: SigningKey) -> None:
    principal = await verifier.verify(make_token(ed_key, role="casual"))
    assert principal.role is Role.CASUAL


async def test_keys_are_cached(
    verifier: JwtVerifier, jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    for _ in range(5):
        await verifier.verify(make_token())
    assert jwks_server.hits == 1


async def test_expired_token(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    now = int(time.time())
    error = await refused(verifier, make_token(iat=now - 600, exp=now - 120))
    assert error.message == MSG_EXPIRED


async def test_expiry_within_leeway_is_accepted(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    now = int(time.time())
    await verifier.verify(make_token(iat=now - 600, exp=now - 5))


async def test_not_yet_valid_token(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    now = int(time.time())
    error = await refused(verifier, make_token(nbf=now + 600))
    assert error.message == MSG_INVALID


async def test_issued_in_the_future(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    now = int(time.time())
    await refused(verifier, make_token(iat=now + 600, exp=now + 900))


async def test_tampered_payload(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    header, _, signature = make_token(role="casual").split(".")
    forged_payload = b64url_json(claims(role="admin"))
    await refused(verifier, f"{header}.{forged_payload}.{signature}")


async def test_alg_none_is_refused(verifier: JwtVerifier, rsa_key: SigningKey) -> None:
    token = f"{b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': rsa_key.kid})}.{b64url_json(claims())}."
    await refused(verifier, token)


async def test_hs256_signed_with_the_public_key_is_refused(
    verifier: JwtVerifier, rsa_key: SigningKey
) -> None:
    # Classic algorithm confusion: the attacker knows the public key and uses it as an HMAC secret.
    secret = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url_json({"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid})
    signing_input = f"{header}.{b64url_json(claims())}"
    signature = b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    await refused(verifier, f"{signing_input}.{signature}")


async def test_algorithm_must_match_the_key(
    verifier: JwtVerifier, make_token: TokenFactory, ed_key: SigningKey
) -> None:
    # An EdDSA-signed token claiming the RSA key's kid.
    await refused(verifier, make_token(ed_key, kid="rsa-1"))


async def test_signed_with_a_wrong_key(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    impostor = SigningKey("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    await refused(verifier, make_token(impostor))


async def test_wrong_audience(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    await refused(verifier, make_token(aud="another-product"))


async def test_wrong_issuer(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    await refused(verifier, make_token(iss="https://evil.example"))


@pytest.mark.parametrize("missing", ["sub", "role", "email", "iat", "exp", "jti", "iss", "aud"])
async def test_required_claims(verifier: JwtVerifier, make_token: TokenFactory, missing: str) -> None:
    await refused(verifier, make_token(**{missing: None}))


async def test_unknown_role_is_refused(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    await refused(verifier, make_token(role="superuser"))
    await refused(verifier, make_token(role=["admin"]))
    await refused(verifier, make_token(sub=42))


async def test_missing_kid_and_garbage(verifier: JwtVerifier, make_token: TokenFactory) -> None:
    await refused(verifier, make_token(kid=""))
    await refused(verifier, "not-a-jwt")
    await refused(verifier, "a.b.c")
    await refused(verifier, make_token() + "x" * 9000)


async def test_unknown_kid_refreshes_once_after_rotation(
    jwks_server: JwksServer, make_token: TokenFactory, rsa_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    verifier = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, min_refresh_interval=0.3)
    try:
        await verifier.verify(make_token(rsa_key))
        assert jwks_server.hits == 1
        await asyncio.sleep(0.35)

        jwks_server.publish(rotated_rsa_key)
        principal = await verifier.verify(make_token(rotated_rsa_key))
        assert principal.user_id == "user-42"
        assert jwks_server.hits == 2

        await verifier.verify(make_token(rotated_rsa_key))
        assert jwks_server.hits == 2
        # The retired key is gone from the new set, and the next refresh is not due yet.
        await refused(verifier, make_token(rsa_key))
        assert jwks_server.hits == 2
    finally:
        await verifier.aclose()


async def test_flood_of_unknown_kids_is_rate_limited(
    verifier: JwtVerifier, jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    await verifier.verify(make_token())
    tokens = [make_token(kid=f"bogus-{i}") for i in range(50)]
    results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(r, Unauthorized) for r in results)
    assert jwks_server.hits == 1


async def test_concurrent_cold_start_fetches_once(
    verifier: JwtVerifier, jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    tokens = [make_token() for _ in range(20)]
    principals = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert len(principals) == 20
    assert jwks_server.hits == 1


async def test_revoked_jti_is_refused(jwks_server: JwksServer, make_token: TokenFactory) -> None:
    denylist = {"logged-out"}
    asked: list[str] = []

    async def is_revoked(jti: str) -> bool:
        asked.append(jti)
        return jti in denylist

    verifier = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, is_revoked=is_revoked)
    try:
        error = await refused(verifier, make_token(jti="logged-out"))
        assert error.message == MSG_REVOKED
        assert (await verifier.verify(make_token(jti="still-in"))).jti == "still-in"
        assert asked == ["logged-out", "still-in"]
    finally:
        await verifier.aclose()


async def test_failing_revocation_check_fails_closed(
    jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    async def broken(jti: str) -> bool:
        raise ConnectionError("redis down")

    verifier = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, is_revoked=broken)
    try:
        with pytest.raises(Unavailable):
            await verifier.verify(make_token())
    finally:
        await verifier.aclose()


async def test_unreachable_jwks_is_unavailable_not_unauthorized(make_token: TokenFactory) -> None:
    verifier = JwtVerifier("http://127.0.0.1:1/jwks.json", issuer=ISSUER, audience=AUDIENCE, fetch_timeout=1)
    try:
        with pytest.raises(Unavailable):
            await verifier.verify(make_token())
    finally:
        await verifier.aclose()


async def test_cached_keys_survive_a_failed_refresh(
    jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    verifier = JwtVerifier(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, cache_ttl=0.0, min_refresh_interval=0.0
    )
    try:
        await verifier.verify(make_token())
        jwks_server.status = 500
        await verifier.verify(make_token())
        assert jwks_server.hits == 2
    finally:
        await verifier.aclose()


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("RS256", "HS512"), ()])
def test_only_asymmetric_algorithms_can_be_configured(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        JwtVerifier("http://127.0.0.1/jwks.json", issuer=ISSUER, audience=AUDIENCE, algorithms=algorithms)


async def test_algorithm_not_configured_is_refused(
    jwks_server: JwksServer, make_token: TokenFactory, ed_key: SigningKey
) -> None:
    verifier = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, algorithms=("RS256",))
    try:
        await verifier.verify(make_token())
        await refused(verifier, make_token(ed_key))
    finally:
        await verifier.aclose()
