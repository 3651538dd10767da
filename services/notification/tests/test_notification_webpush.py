"""Web push over the REST API, delivered to a real local push service.

The push service (``cp_testing.webpush``) verifies every message's VAPID signature against the
key the browser subscribed with and decrypts the payload with the browser's private key, as a
real one does. Covered: a new signal pushed, signed and decrypted; 410 removing the subscription;
500 retried into the dead letter; preferences honoured; bad subscriptions refused in the envelope.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_testing.waiting import eventually
from cp_testing.webpush import LocalPushService, TestBrowser, b64url

from .notification_testing import RunningNotification, TokenIssuer, new_signal, producer, running_notification

BASE = "/api/v1/notifications"


@pytest.fixture(scope="module")
async def events(kafka_bootstrap_servers: str) -> AsyncIterator[EventProducer]:
    async with producer(kafka_bootstrap_servers) as running:
        yield running


@pytest.fixture
async def push(service: RunningNotification) -> AsyncIterator[LocalPushService]:
    async with httpx.AsyncClient(base_url=service.url) as anonymous:
        key = (await anonymous.get(f"{BASE}/vapid-public-key")).json()["data"]["application_server_key"]
    async with LocalPushService(key) as running:
        yield running


def _client(service: RunningNotification, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _symbol() -> str:
    return "P" + uuid.uuid4().hex[:6].upper()


async def _subscribe(http: httpx.AsyncClient, browser: TestBrowser, **preferences: Any) -> dict[str, Any]:
    answer = await http.put(f"{BASE}/preferences", json=preferences)
    assert answer.status_code == 200, answer.text
    created = await http.post(f"{BASE}/subscribe", json=browser.subscription())
    assert created.status_code == 201, created.text
    data: dict[str, Any] = created.json()["data"]
    return data


async def _deliveries(http: httpx.AsyncClient, status: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await http.get(f"{BASE}/deliveries?status={status}")).json()["data"]
    return [row for row in rows if row["channel"] == "webpush"]


async def test_a_new_signal_is_pushed_signed_and_encrypted(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer, push: LocalPushService
) -> None:
    symbol = _symbol()
    browser = push.browser()
    async with _client(service, issuer.token()) as http:
        created = await _subscribe(http, browser, symbols=[symbol])
        assert created["endpoint"] == browser.endpoint
        listed = (await http.get(f"{BASE}/subscriptions")).json()["data"]
        assert [s["id"] for s in listed] == [created["id"]]
        assert "keys" not in listed[0] and browser.p256dh not in str(listed)

        change = new_signal(symbol, confidence=0.83, analysis="x" * 5_000)
        await events.publish(topics.SIGNALS.name, change)
        await eventually(lambda: bool(push.received_by(browser)), within=30, what="a push message")
        message = push.received_by(browser)[0]
        assert push.refused == []
        assert message.claims["aud"] == push.origin and message.claims["sub"].startswith("mailto:")
        assert message.headers["Urgency"] == "high" and int(message.headers["TTL"]) > 0
        payload = message.payload
        assert payload["type"] == "new_signal" and payload["title"] == f"New signal: {symbol} LONG"
        assert payload["data"]["signal_id"] == change.signal.signal_id
        assert payload["data"]["symbol"] == symbol and payload["data"]["confidence"] == pytest.approx(0.83)
        assert "ai_analysis" not in payload["data"]  # the 5,000-character analysis stays out

        rows: list[dict[str, Any]] = []

        async def delivered() -> bool:
            rows[:] = await _deliveries(http, "delivered")
            return bool(rows)

        await eventually(delivered, within=20, what="a delivered push delivery")
        assert rows[0]["attempts"] == 1 and rows[0]["last_status"] == 201
        assert rows[0]["subscription_id"] == created["id"] and rows[0]["endpoint_id"] is None
        assert rows[0]["event_id"] == payload["event_id"]
        assert push.requests_to(browser) == 1


async def test_a_gone_subscription_is_removed(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer, push: LocalPushService
) -> None:
    symbol = _symbol()
    browser = push.browser(status=410)
    async with _client(service, issuer.token()) as http:
        await _subscribe(http, browser, symbols=[symbol])
        await events.publish(topics.SIGNALS.name, new_signal(symbol))

        async def removed() -> bool:
            return (await http.get(f"{BASE}/subscriptions")).json()["data"] == []

        await eventually(removed, within=30, what="the expired subscription removed")
        dead = await _deliveries(http, "dead")
        assert len(dead) == 1 and dead[0]["attempts"] == 1 and dead[0]["last_status"] == 410
        assert dead[0]["last_error"].startswith("gone:") and dead[0]["subscription_id"] is None
        await events.publish(topics.SIGNALS.name, new_signal(symbol))  # nothing left to push to
        assert push.requests_to(browser) == 1 and push.refused == []


async def test_a_failing_push_service_is_retried_then_dead_lettered(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer, push: LocalPushService
) -> None:
    attempts = service.settings.notification_webhook_max_attempts
    symbol = _symbol()
    browser = push.browser(status=500)
    async with _client(service, issuer.token()) as http:
        created = await _subscribe(http, browser, symbols=[symbol])
        await events.publish(topics.SIGNALS.name, new_signal(symbol))
        dead: list[dict[str, Any]] = []

        async def dead_lettered() -> bool:
            dead[:] = await _deliveries(http, "dead")
            return bool(dead)

        await eventually(dead_lettered, within=60, what="a dead-lettered push delivery")
        assert dead[0]["attempts"] == attempts and dead[0]["last_status"] == 500
        assert push.requests_to(browser) == attempts and push.refused == []
        assert push.received_by(browser) == []  # each attempt decrypted, none accepted
        # A failing push service is not an expired subscription: it stays, and works again.
        assert [s["id"] for s in (await http.get(f"{BASE}/subscriptions")).json()["data"]] == [created["id"]]
        push.answer(browser, 201)
        await events.publish(topics.SIGNALS.name, new_signal(symbol))
        await eventually(lambda: bool(push.received_by(browser)), within=30, what="a push after recovery")


async def test_preferences_decide_what_is_pushed(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer, push: LocalPushService
) -> None:
    symbol = _symbol()
    wants, no_channel, too_unsure, other_symbol = (push.browser() for _ in range(4))
    async with (
        _client(service, issuer.token()) as a,
        _client(service, issuer.token()) as b,
        _client(service, issuer.token()) as c,
        _client(service, issuer.token()) as d,
    ):
        await _subscribe(a, wants, symbols=[symbol], channels=["webpush"])
        await _subscribe(b, no_channel, symbols=[symbol], channels=["websocket", "webhook"])
        await _subscribe(c, too_unsure, symbols=[symbol], min_confidence=0.9)
        await _subscribe(d, other_symbol, symbols=[_symbol()])
        await events.publish(topics.SIGNALS.name, new_signal(symbol, confidence=0.7))
        # All deliveries of one event are queued in one transaction: once one arrived, every
        # delivery the preferences allowed exists.
        await eventually(lambda: bool(push.received_by(wants)), within=30, what="the wanted push")
        await eventually(
            lambda: _all_settled(service), within=20, what="no push delivery pending for this service"
        )
        for unwanted in (no_channel, too_unsure, other_symbol):
            assert push.requests_to(unwanted) == 0
        assert await _deliveries(b, "delivered") == [] and await _deliveries(b, "pending") == []


async def _all_settled(service: RunningNotification) -> bool:
    pending = await service.components.pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE channel = 'webpush' AND status = 'pending' "
        "AND last_status IS NULL"
    )
    return int(pending) == 0


def _point_off_the_curve() -> str:
    return b64url(b"\x04" + b"\x01" * 64)


async def test_bad_subscriptions_are_refused_in_the_envelope(
    service: RunningNotification, issuer: TokenIssuer, push: LocalPushService
) -> None:
    good = push.browser().subscription()
    keys = good["keys"]
    bad_bodies: list[Any] = [
        {},
        {"endpoint": good["endpoint"]},
        {**good, "keys": {"p256dh": keys["p256dh"]}},
        {**good, "keys": {**keys, "p256dh": keys["p256dh"][:-4]}},
        {**good, "keys": {**keys, "p256dh": _point_off_the_curve()}},
        {**good, "keys": {**keys, "p256dh": "+/" + keys["p256dh"][2:]}},
        {**good, "keys": {**keys, "auth": b64url(b"\x00" * 15)}},
        {**good, "keys": {**keys, "auth": "not base64url!"}},
        {**good, "keys": {**keys, "extra": "x"}},
        {**good, "endpoint": "ftp://127.0.0.1/push"},
        {**good, "endpoint": "http://93.184.216.34/push"},
        {**good, "endpoint": "https://" + "a" * 2050 + ".example/push"},
        {**good, "endpoint": "not a url"},
        {**good, "expirationTime": -1},
        {**good, "colour": "red"},
        [good],
    ]
    async with _client(service, issuer.token()) as http:
        for body in bad_bodies:
            answer = await http.post(f"{BASE}/subscribe", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["success"] is False and answer.json()["error"]
        not_json = await http.post(
            f"{BASE}/subscribe", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code in (400, 422) and not_json.json()["success"] is False
        assert (await http.get(f"{BASE}/subscriptions")).json()["data"] == []
        assert (await http.delete(f"{BASE}/subscriptions/not-a-uuid")).status_code == 404
    async with httpx.AsyncClient(base_url=service.url) as anonymous:
        answer = await anonymous.post(f"{BASE}/subscribe", json=good)
        assert answer.status_code == 401 and answer.json()["success"] is False


async def test_subscriptions_are_per_user_bounded_and_deletable(
    service: RunningNotification, issuer: TokenIssuer, push: LocalPushService
) -> None:
    most = service.settings.notification_push_max_subscriptions
    browsers = [push.browser() for _ in range(most)]
    async with _client(service, issuer.token()) as owner, _client(service, issuer.token()) as other:
        for user in (owner, other):  # subscriptions that no signal in this module reaches
            await user.put(f"{BASE}/preferences", json={"symbols": [_symbol()]})
        ids = [
            (await owner.post(f"{BASE}/subscribe", json=b.subscription())).json()["data"]["id"]
            for b in browsers
        ]
        assert len(set(ids)) == most
        again = await owner.post(f"{BASE}/subscribe", json=browsers[0].subscription())
        assert again.status_code == 201 and again.json()["data"]["id"] == ids[0]  # replaced, not added
        extra = await owner.post(f"{BASE}/subscribe", json=push.browser().subscription())
        assert extra.status_code == 409 and extra.json()["success"] is False

        assert (await other.delete(f"{BASE}/subscriptions/{ids[1]}")).status_code == 404
        assert (await other.get(f"{BASE}/subscriptions")).json()["data"] == []
        assert (await owner.delete(f"{BASE}/subscriptions/{ids[1]}")).status_code == 200
        assert (await owner.delete(f"{BASE}/subscriptions/{ids[1]}")).status_code == 404
        left = {s["id"] for s in (await owner.get(f"{BASE}/subscriptions")).json()["data"]}
        assert left == set(ids) - {ids[1]}

        # The same browser signing in as another user moves its subscription to that user.
        moved = await other.post(f"{BASE}/subscribe", json=browsers[2].subscription())
        assert moved.status_code == 201 and moved.json()["data"]["id"] == ids[2]
        assert ids[2] not in {s["id"] for s in (await owner.get(f"{BASE}/subscriptions")).json()["data"]}


async def test_production_rules_refuse_plain_http_and_private_push_endpoints(
    notification_settings, issuer: TokenIssuer
) -> None:
    settings = notification_settings(
        notification_push_allow_http_loopback=False, notification_webhook_allow_private=False
    )
    browser = TestBrowser("http://127.0.0.1:9/push/x")
    async with running_notification(settings) as strict, _client(strict, issuer.token()) as http:
        for endpoint in ("http://127.0.0.1:9/push/x", "https://127.0.0.1/push", "https://10.0.0.7/push"):
            body = {**browser.subscription(), "endpoint": endpoint}
            answer = await http.post(f"{BASE}/subscribe", json=body)
            assert answer.status_code == 422, (endpoint, answer.text)
            assert "refused" in answer.json()["error"]
        await http.put(f"{BASE}/preferences", json={"symbols": [_symbol()]})  # never pushed to
        public = {**browser.subscription(), "endpoint": "https://93.184.216.34/push/x"}
        created = await http.post(f"{BASE}/subscribe", json=public)
        assert created.status_code == 201, created.text
        assert (await http.delete(f"{BASE}/subscriptions/{created.json()['data']['id']}")).status_code == 200
