"""Hot reads answered in front of the routes: the same answer, only to whom the route would give it."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from fastapi import APIRouter, Depends, Query, Request
from prometheus_client import REGISTRY
from pydantic_core import to_json

from cp_common.cache import create_redis
from cp_common.http import create_app
from cp_common.http.hot_reads import hot_read
from cp_common.http.read_cache import PreserialisedCache
from cp_common.security import Principal, Role, current_principal, require_roles
from cp_common.security.jwt_verifier import MSG_REVOKED
from cp_common.security.token_cache import VerifiedTokenCache
from cp_common.settings import ServiceSettings
from cp_layer_kit.ratelimit import per_user_limit
from cp_layer_kit.testing import LocalTokens

LIMIT = 5


class Reads:
    """What the test routes built (a miss) and the caches they answer from."""

    def __init__(self) -> None:
        self.shared = PreserialisedCache(ttl_s=60)
        self.mine = PreserialisedCache(ttl_s=60)
        self.builds: list[str] = []

    def builder(self, name: str, data: object):
        async def build() -> bytes:
            self.builds.append(name)
            return to_json(data)

        return build


def routes(reads: Reads) -> APIRouter:
    router = APIRouter()

    @router.get("/public/{symbol}")
    async def public(request: Request, symbol: str, limit: int = Query(10, ge=1, le=100)) -> object:
        return await hot_read(
            request, reads.shared, reads.builder("public", {"symbol": symbol, "limit": limit})
        )

    @router.get("/me")
    async def me(request: Request, principal: Principal = Depends(current_principal)) -> object:
        data = {"user": principal.user_id}
        return await hot_read(request, reads.mine, reads.builder("me", data), per_caller=True)

    @router.get("/admins")
    async def admins(request: Request, _: Principal = Depends(require_roles(Role.ADMIN))) -> object:
        return await hot_read(request, reads.shared, reads.builder("admins", {"admins": True}))

    @router.get("/limited")
    async def limited(request: Request, _: Principal = Depends(per_user_limit("hot-test", LIMIT))) -> object:
        return await hot_read(request, reads.shared, reads.builder("limited", {"limited": True}))

    return router


@pytest.fixture
async def service(redis_url):
    reads = Reads()
    app = create_app(ServiceSettings(service_name="test-hot-reads"), title="test", routers=[routes(reads)])
    tokens = LocalTokens()
    cache = VerifiedTokenCache()
    cache.enable()  # as the revocation listener does once subscribed
    verifier = tokens.verifier()
    verifier.cache = cache
    app.state.jwt_verifier = verifier
    redis = create_redis(redis_url)
    app.state.runtime = SimpleNamespace(
        extras={},
        settings=SimpleNamespace(service_name=f"hot-{uuid.uuid4().hex[:6]}", layer_rate_limit_scale=1.0),
        require_redis=lambda: redis,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield SimpleNamespace(app=app, http=client, tokens=tokens, cache=cache, reads=reads)
    await redis.aclose()


def served(service) -> int:
    return int(service.app.state.hot_reads.served)


def without_timestamp(response: httpx.Response) -> tuple[int, dict[str, object], list[tuple[str, str]]]:
    body = response.json()
    body.pop("timestamp")
    skip = {"x-request-id", "content-length"}  # a fresh id; the length follows the timestamp
    headers = sorted((k, v) for k, v in response.headers.items() if k not in skip)
    return response.status_code, body, headers


def samples(route: str) -> tuple[float, float]:
    """(hot answers, 200 answers) of ``route`` counted so far."""
    hot = REGISTRY.get_sample_value("http_hot_read_answers_total", {"route": route})
    answers = REGISTRY.get_sample_value(
        "http_requests_total", {"method": "GET", "route": route, "status": "200"}
    )
    return hot or 0.0, answers or 0.0


async def test_a_cached_answer_is_served_again_in_front_of_the_route(service):
    hot_before, answers_before = samples("/public/{symbol}")
    first = await service.http.get("/public/BTC?limit=3")
    second = await service.http.get("/public/BTC?limit=3")
    assert service.reads.builds == ["public"] and served(service) == 1
    # counted like any answer, under the route's template, and as a hot one
    assert samples("/public/{symbol}") == (hot_before + 1, answers_before + 2)
    assert without_timestamp(first) == without_timestamp(second)
    assert second.json()["data"] == {"symbol": "BTC", "limit": 3}
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert int(second.headers["content-length"]) == len(second.content)
    # another query is another answer: built by the route
    other = await service.http.get("/public/BTC?limit=4")
    assert other.json()["data"]["limit"] == 4 and service.reads.builds == ["public", "public"]


async def test_an_invalid_query_is_never_cached_or_served(service):
    for _ in range(2):
        response = await service.http.get("/public/BTC?limit=0")
        assert response.status_code == 422 and response.json()["success"] is False
    assert service.reads.builds == [] and served(service) == 0


async def test_only_get_is_served(service):
    await service.http.get("/public/ETH")
    assert (await service.http.post("/public/ETH")).status_code == 405
    assert (await service.http.head("/public/ETH")).status_code == 405  # a GET route answers no HEAD
    assert served(service) == 0


async def test_a_write_invalidation_sends_the_next_read_to_the_route(service):
    await service.http.get("/public/SOL")
    service.reads.shared.invalidate()
    await service.http.get("/public/SOL")
    assert service.reads.builds == ["public", "public"] and served(service) == 0


async def test_a_per_caller_answer_is_only_served_to_that_caller(service):
    alice, bob = service.tokens.token("alice"), service.tokens.token("bob")
    assert (await service.http.get("/me", headers=bearer(alice))).json()["data"] == {"user": "alice"}
    again = await service.http.get("/me", headers=bearer(alice))
    assert again.json()["data"] == {"user": "alice"} and served(service) == 1
    assert (await service.http.get("/me", headers=bearer(bob))).json()["data"] == {"user": "bob"}
    assert service.reads.builds == ["me", "me"]


async def test_no_token_a_bad_one_or_a_revoked_one_is_refused_by_the_route(service):
    token = service.tokens.token("carol")
    await service.http.get("/me", headers=bearer(token))
    await service.http.get("/me", headers=bearer(token))
    assert served(service) == 1
    for headers in ({}, bearer("not-a-token"), {"Authorization": f"Basic {token}"}):
        response = await service.http.get("/me", headers=headers)
        assert response.status_code == 401 and response.json()["error_code"] == 401
    principal = service.cache.get(token)
    service.cache.revoke(principal.jti, principal.expires_at.timestamp())  # as a pushed revocation
    refused = await service.http.get("/me", headers=bearer(token))
    assert served(service) == 1
    # the route verifies again and refuses it too (the pushed revocation, with no denylist here)
    assert refused.status_code == 401 and refused.json()["error"] == MSG_REVOKED
    assert service.cache.get(token) is None


async def test_a_role_the_route_refuses_is_refused(service):
    admin, casual = service.tokens.token(role="admin"), service.tokens.token(role="casual")
    assert (await service.http.get("/admins", headers=bearer(admin))).status_code == 200
    assert (await service.http.get("/admins", headers=bearer(admin))).status_code == 200
    assert served(service) == 1
    await service.http.get("/me", headers=bearer(casual))  # the casual token is verified and cached
    response = await service.http.get("/admins", headers=bearer(casual))
    assert response.status_code == 403 and response.json()["error_code"] == 403
    assert served(service) == 1


async def test_the_per_user_limit_counts_every_answer(service):
    token = service.tokens.token("dave")
    statuses = [
        (await service.http.get("/limited", headers=bearer(token))).status_code for _ in range(LIMIT + 3)
    ]
    assert statuses == [200] * LIMIT + [429] * 3
    assert service.reads.builds == ["limited"]
    # the limit is below 40: every call is counted in Redis, none is answered in front of the route
    assert served(service) == 0


async def test_a_reserved_limit_is_used_up_exactly(service):
    """A large limit reserves calls in batches; the answers in front of the route use them up
    and never serve more than the limit."""
    limit = 200
    router = APIRouter()
    reads = service.reads

    @router.get("/polled")
    async def polled(request: Request, _: Principal = Depends(per_user_limit("hot-polled", limit))) -> object:
        return await hot_read(request, reads.shared, reads.builder("polled", {"polled": True}))

    service.app.include_router(router)
    service.app.middleware_stack = None  # rebuilt with the new route
    token = service.tokens.token("erin")
    if time.time() % 60 > 50:  # all calls in one window of the limit
        await asyncio.sleep(60 - time.time() % 60)
    statuses = [
        (await service.http.get("/polled", headers=bearer(token))).status_code for _ in range(limit + 5)
    ]
    assert statuses.count(200) <= limit and statuses.count(200) >= limit - 10  # reservations of 10
    assert statuses[-5:] == [429] * 5 and served(service) > limit // 2


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
