"""The WebSocket streams on a real port, fed by events published to the real broker.

Authentication and close codes, the client protocol, routing by preferences and subscriptions,
replay by last event id without duplicates, idempotence under a redelivered event, expiry and
revocation while connected, and a slow client cut off while another keeps receiving.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from cp_common import topics
from cp_common.kafka import EventProducer
from cp_common.security.denylist import TokenDenylist
from cp_testing.waiting import eventually
from cryptopredict.events.v1 import analysis_pb2

from .notification_testing import (
    RunningNotification,
    TokenIssuer,
    closed_signal,
    new_signal,
    producer,
    receive_json,
    receive_until,
    running_notification,
    ws_connect,
)

SIGNALS = "/api/v1/ws/signals"
DASHBOARD = "/api/v1/ws/dashboard"
ADMIN = "/api/v1/ws/admin/system-status"


@pytest.fixture(scope="module")
async def events(kafka_bootstrap_servers: str) -> EventProducer:
    async with producer(kafka_bootstrap_servers) as running:
        yield running


def _symbol() -> str:
    return "T" + uuid.uuid4().hex[:6].upper()


def _is_signal(signal_id: str, kind: str = "new_signal"):
    return lambda m: m.get("type") == kind and m["data"]["signal_id"] == signal_id


async def _closed_with(ws, timeout: float = 10.0) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


# --- authentication ------------------------------------------------------------------------------


async def test_a_bad_token_is_closed_with_4001(service: RunningNotification, issuer: TokenIssuer) -> None:
    forged = issuer.token()[:-4] + "AAAA"
    for token, via in ((forged, "subprotocol"), (None, "subprotocol"), ("garbage", "query")):
        async with ws_connect(f"{service.ws_url}{SIGNALS}", token, via=via) as ws:
            assert await _closed_with(ws) == (4001, "Authentication failed")


async def test_an_expired_token_is_refused_with_4001(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    token = issuer.token(ttl_s=-120)  # beyond the verifier's leeway
    async with ws_connect(f"{service.ws_url}{SIGNALS}", token) as ws:
        assert (await _closed_with(ws))[0] == 4001


async def test_a_casual_user_gets_4003_on_the_admin_stream(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    async with ws_connect(f"{service.ws_url}{ADMIN}", issuer.token(role="casual")) as ws:
        assert await _closed_with(ws) == (4003, "Admin privileges required")
    async with ws_connect(f"{service.ws_url}{ADMIN}", issuer.token(role="admin")) as ws:
        init = await receive_json(ws)
        assert init["type"] == "system_status_init"
        system = init["data"]["system"]
        assert system["status"] in ("healthy", "degraded", "unhealthy")
        assert isinstance(system["websocket_connections"], int)


async def test_the_token_may_come_as_a_query_parameter(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    async with ws_connect(f"{service.ws_url}{DASHBOARD}", issuer.token(), via="query") as ws:
        init = await receive_json(ws)
        assert init["type"] == "dashboard_init"
        assert init["data"]["close_codes"]["session_ended"] == 4002


async def test_a_token_expiring_while_connected_closes_with_4002(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    async with ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token(ttl_s=2)) as ws:
        assert (await receive_json(ws))["type"] == "signals_init"
        assert await _closed_with(ws, timeout=15) == (4002, "token expired")


async def test_a_token_revoked_while_connected_closes_with_4002(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    jti = uuid.uuid4().hex
    async with ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token(jti=jti)) as ws:
        assert (await receive_json(ws))["type"] == "signals_init"
        await TokenDenylist(service.components.redis).revoke(jti, 60)
        assert await _closed_with(ws, timeout=15) == (4002, "token revoked")


# --- protocol and routing ------------------------------------------------------------------------


async def test_ping_subscribe_and_invalid_messages(service: RunningNotification, issuer: TokenIssuer) -> None:
    async with ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token()) as ws:
        await receive_json(ws)
        await ws.send('{"type": "ping"}')
        assert (await receive_json(ws))["type"] == "pong"
        await ws.send('{"type": "subscribe", "symbols": ["btc", "ETH"]}')
        confirmed = await receive_json(ws)
        assert confirmed == {"type": "subscription_confirmed", "data": {"symbols": ["BTC", "ETH"]}}
        await ws.send('{"type": "unsubscribe", "channels": ["BTC"]}')
        assert (await receive_json(ws))["data"]["symbols"] == ["ETH"]
        await ws.send("{not json")
        assert (await receive_json(ws))["message"] == "Invalid JSON"
        await ws.send('{"type": "subscribe", "symbols": ["../etc"]}')
        assert (await receive_json(ws))["type"] == "error"
        await ws.send('{"type": "teleport"}')
        assert (await receive_json(ws))["message"] == "unknown message type"
        await ws.send('{"type": "ping"}')  # still open
        assert (await receive_json(ws))["type"] == "pong"


async def test_signals_follow_preferences_and_subscriptions(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    watched, other, subscribed = _symbol(), _symbol(), _symbol()
    user = f"user-{uuid.uuid4().hex[:8]}"
    token = issuer.token(user_id=user)
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {token}"}) as http:
        put = await http.put(
            "/api/v1/notifications/preferences",
            json={"symbols": [watched], "min_confidence": 0.6, "channels": ["websocket"]},
        )
        assert put.status_code == 200, put.text
    async with ws_connect(f"{service.ws_url}{SIGNALS}", token) as ws:
        init = await receive_json(ws)
        assert init["data"]["preferences"]["symbols"] == [watched]
        await ws.send(f'{{"type": "subscribe", "symbols": ["{subscribed}"]}}')
        assert (await receive_json(ws))["type"] == "subscription_confirmed"
        unwatched = new_signal(other, confidence=0.9)
        too_weak = new_signal(watched, confidence=0.5)
        wanted = new_signal(watched, confidence=0.7)
        by_subscription = new_signal(subscribed, confidence=0.8)
        for change in (unwatched, too_weak, wanted, by_subscription):
            await events.publish(topics.SIGNALS.name, change)
        first, _ = await receive_until(ws, lambda m: m.get("type") == "new_signal")
        second, _ = await receive_until(ws, lambda m: m.get("type") == "new_signal")
        got = {first["data"]["signal_id"], second["data"]["signal_id"]}
        assert got == {wanted.signal.signal_id, by_subscription.signal.signal_id}
        assert first["data"]["crypto_symbol"] in (watched, subscribed)
        await events.publish(topics.SIGNALS.name, closed_signal(wanted))
        update, between = await receive_until(ws, _is_signal(wanted.signal.signal_id, "signal_update"))
        assert update["data"]["closed"]["final_status"] == "target_hit"
        assert not [m for m in between if m.get("type") == "new_signal"]


async def test_dashboard_gets_layer_updates_and_its_init_shows_the_latest(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    analysis_id = str(uuid.uuid4())
    macro = analysis_pb2.MacroRegimeAnalyzed(
        analysis_id=analysis_id,
        regime=1,
        confidence=0.71,
        risk_level=2,
        drivers=["breadth"],  # bull, medium
    )
    async with ws_connect(f"{service.ws_url}{DASHBOARD}", issuer.token()) as ws:
        await receive_json(ws)
        await events.publish(topics.ANALYSIS_MACRO.name, macro)
        update, _ = await receive_until(
            ws, lambda m: m.get("type") == "layer1_update" and m["data"]["analysis_id"] == analysis_id
        )
        assert update["data"]["market_regime"] == "bull" and update["data"]["risk_level"] == "medium"
    async with ws_connect(f"{service.ws_url}{DASHBOARD}", issuer.token()) as ws:
        init = await receive_json(ws)
        assert init["data"]["layers"]["layer1"]["analysis_id"] == analysis_id


# --- replay and idempotence ----------------------------------------------------------------------


async def test_reconnecting_with_the_last_event_id_replays_what_was_missed_exactly_once(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    symbol = _symbol()
    token = issuer.token()
    first = new_signal(symbol)
    async with ws_connect(f"{service.ws_url}{SIGNALS}", token) as ws:
        await receive_json(ws)
        await ws.send(f'{{"type": "subscribe", "symbols": ["{symbol}"]}}')
        await receive_json(ws)
        await events.publish(topics.SIGNALS.name, first)
        seen, _ = await receive_until(ws, _is_signal(first.signal.signal_id))
    missed = [new_signal(symbol) for _ in range(3)]
    for change in missed:
        await events.publish(topics.SIGNALS.name, change)
    await asyncio.sleep(1.0)  # let them reach the bus while nobody is connected
    url = f"{service.ws_url}{SIGNALS}?last_event_id={seen['id']}"
    async with ws_connect(url, token) as ws:
        assert (await receive_json(ws))["type"] == "signals_init"
        done, replayed = await receive_until(ws, lambda m: m.get("type") == "replay_complete")
        assert done["data"]["complete"] is True
        ids = [m["data"]["signal_id"] for m in replayed if m.get("type") == "new_signal"]
        # Different keys, different partitions: no order between them, but each exactly once.
        assert sorted(ids) == sorted(c.signal.signal_id for c in missed)
        assert first.signal.signal_id not in ids
        later = new_signal(symbol)
        await events.publish(topics.SIGNALS.name, later)
        live, between = await receive_until(ws, _is_signal(later.signal.signal_id))
        assert not [m for m in between if m.get("type") == "new_signal"]
        assert live["id"] > replayed[-1]["id"]


async def test_a_redelivered_event_reaches_a_client_once(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    symbol = _symbol()
    change, marker = new_signal(symbol), new_signal(symbol)
    event_id = str(uuid.uuid4())
    async with ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token()) as ws:
        await receive_json(ws)
        await events.publish(topics.SIGNALS.name, change, event_id=event_id)
        await events.publish(topics.SIGNALS.name, change, event_id=event_id)
        await events.publish(topics.SIGNALS.name, marker)
        _, before = await receive_until(ws, _is_signal(marker.signal.signal_id))
        copies = [m for m in before if m.get("event_id") == event_id]
        assert len(copies) == 1


async def test_a_malformed_last_event_id_is_refused(
    service: RunningNotification, issuer: TokenIssuer
) -> None:
    async with ws_connect(f"{service.ws_url}{SIGNALS}?last_event_id=x%27;--", issuer.token()) as ws:
        assert (await _closed_with(ws))[0] == 1008


async def test_a_signal_without_id_does_not_block_its_partition(
    service: RunningNotification, issuer: TokenIssuer, events: EventProducer
) -> None:
    broken, marker = new_signal(_symbol()), new_signal(_symbol())
    broken.signal.signal_id = ""
    key = uuid.uuid4().hex.encode()  # one key: the same partition, handled in order
    async with ws_connect(f"{service.ws_url}{SIGNALS}", issuer.token()) as ws:
        await receive_json(ws)
        for change in (broken, marker):
            headers = {"event-id": str(uuid.uuid4()), "event-type": topics.SIGNALS.event_type}
            await (
                await events.send_raw(
                    topics.SIGNALS.name, change.SerializeToString(), key=key, headers=headers
                )
            )
        _, before = await receive_until(ws, _is_signal(marker.signal.signal_id))
        assert not [m for m in before if m.get("type") == "new_signal" and not m["data"]["signal_id"]]


async def test_heartbeats_carry_the_connection_count(notification_settings, issuer: TokenIssuer) -> None:
    async with running_notification(notification_settings(notification_ws_heartbeat_s=0.2)) as fast_beat:
        async with ws_connect(f"{fast_beat.ws_url}{DASHBOARD}", issuer.token()) as ws:
            await receive_json(ws)
            beat, _ = await receive_until(ws, lambda m: m.get("type") == "heartbeat", timeout=10)
            assert beat["data"]["active_connections"] == 1


async def test_a_replay_longer_than_the_batch_says_it_is_incomplete(
    notification_settings, issuer: TokenIssuer, events: EventProducer
) -> None:
    symbol = _symbol()
    token = issuer.token()
    async with running_notification(notification_settings(notification_replay_max_batch=2)) as small:
        async with ws_connect(f"{small.ws_url}{SIGNALS}", token) as ws:
            await receive_json(ws)
            start = small.components.hub.position
        for _ in range(3):
            await events.publish(topics.SIGNALS.name, new_signal(symbol))
        hub = small.components.hub

        async def all_three_on_the_bus() -> bool:
            return len(await small.components.bus.range_after(start, hub.position, count=10)) >= 3

        await eventually(all_three_on_the_bus, within=30, what="the three signals on the bus")
        async with ws_connect(f"{small.ws_url}{SIGNALS}?last_event_id={start}", token) as ws:
            await receive_json(ws)
            done, replayed = await receive_until(ws, lambda m: m.get("type") == "replay_complete")
        assert done["data"] == {"from": start, "count": 2, "complete": False}
        assert len([m for m in replayed if m.get("type") == "new_signal"]) <= 2
