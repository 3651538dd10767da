"""The Redis denylist: a copy that fails closed until it has been primed from the source of truth."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from cp_common.cache import create_redis
from cp_common.errors import Unauthorized, Unavailable
from cp_common.security import JwtVerifier
from cp_common.security.denylist import (
    PRIMED_KEY,
    Revocation,
    TokenDenylist,
    parse_revocation_message,
    revocation_message,
)
from cp_common.security.jwt_verifier import MSG_REVOCATION_UNAVAILABLE, MSG_REVOKED

from .conftest import AUDIENCE, ISSUER, JwksServer, TokenFactory

#: A database of its own: these tests flush it.
DENYLIST_DB = 7


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(f"{redis_url.rsplit('/', 1)[0]}/{DENYLIST_DB}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def test_an_unprimed_denylist_refuses_every_token_until_primed(
    redis: aioredis.Redis, jwks_server: JwksServer, make_token: TokenFactory
) -> None:
    denylist = TokenDenylist(redis)
    verifier = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, is_revoked=denylist.is_revoked)
    try:
        with pytest.raises(Unavailable) as unprimed:
            await verifier.verify(make_token(jti="fine"))
        assert unprimed.value.message == MSG_REVOCATION_UNAVAILABLE

        epoch = await denylist.prime([Revocation("gone", time.time() + 300)])
        assert await denylist.primed_epoch() == epoch
        with pytest.raises(Unauthorized) as revoked:
            await verifier.verify(make_token(jti="gone"))
        assert revoked.value.message == MSG_REVOKED
        assert (await verifier.verify(make_token(jti="fine"))).jti == "fine"

        await redis.flushdb()  # Redis lost its data: fail closed again
        with pytest.raises(Unavailable):
            await verifier.verify(make_token(jti="fine"))
    finally:
        await verifier.aclose()


async def test_revocations_expire_with_the_token_plus_the_linger(redis: aioredis.Redis) -> None:
    denylist = TokenDenylist(redis, linger_s=30)
    now = time.time()
    await denylist.prime([Revocation("soon", now + 10), Revocation("long-gone", now - 60)])
    assert 35 <= await redis.ttl("jwt:denylist:soon") <= 41
    assert not await redis.exists("jwt:denylist:long-gone")
    assert await redis.get(PRIMED_KEY) is not None


def test_revocation_messages_round_trip_and_garbage_is_ignored() -> None:
    revocation = Revocation("abc", 1_700_000_000.0)
    assert parse_revocation_message(revocation_message(revocation)) == revocation
    for garbage in (b"", b"{", b"[]", b'{"jti": 5, "exp": 1}', b'{"jti": "x"}', b'{"jti": "", "exp": 1}'):
        assert parse_revocation_message(garbage) is None
