"""The admin dashboard's ``performance_metrics``: Layer 4's fleet-wide live record asked over gRPC
from the real Layer 4 service (in-process on its own database, no model needed for it), and an
explicit ``unavailable`` section, never a 500, when Layer 4 is not deployed or does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from cp_common.db.migrations import upgrade
from cp_layer_kit.testing import LocalTokens, RunningLayer, run_layer
from cp_models.registry.store import ensure_registry_schema
from layer4_timing_service import MIGRATIONS_DIR, SCHEMA
from layer4_timing_service.app import SPEC
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as signal_store
from layer4_timing_service.storage.signals import Closing, NewSignal
from layer4_timing_service.testing import new_signal

from .admin_testing import Auth, Caller, RunningAdmin, running_admin

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC)
DASHBOARD = "/api/v1/dashboard/admin"


@pytest.fixture(scope="module")
async def layer4(
    fresh_database: Callable[..., str], redis_url, kafka_bootstrap_servers, free_port
) -> AsyncIterator[RunningLayer]:
    url = fresh_database("admin_layer4")
    await asyncio.to_thread(upgrade, url, SCHEMA, MIGRATIONS_DIR)
    await asyncio.to_thread(ensure_registry_schema, url, SCHEMA)
    settings = TimingSettings(
        environment="test",
        database_url=url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer_consume_market_events=False,
    )
    async with run_layer(SPEC, settings, LocalTokens()) as running:
        yield running


@pytest.fixture(scope="module")
async def admin_with_layer4(
    admin_settings, auth_service: Auth, layer4: RunningLayer
) -> AsyncIterator[RunningAdmin]:
    target = f"127.0.0.1:{layer4.kit.settings.grpc_port}"
    async with running_admin(admin_settings(admin_timing_target=target), auth_service.app) as running:
        yield running


@pytest.fixture
async def admin_user(auth_service: Auth) -> Caller:
    return await auth_service.user("admin")


def _signal(symbol: str, generated_days_ago: float) -> NewSignal:
    generated = NOW - timedelta(days=generated_days_ago)
    return new_signal(
        symbol,
        "long",
        (generated - timedelta(days=1)).date(),
        100.0,
        target_distance=5.0,
        stop_distance=2.0,
        generated_at=generated,
    )


async def _seed(layer4: RunningLayer) -> None:
    """Two winners, a loser and a cancellation closed this week; an open signal; a winner closed
    60 days ago (outside a 30-day window, inside a 90-day one)."""
    closings = [
        ("BTC", 5, Closing("target_hit", NOW - timedelta(days=1), 105.0, 0.05, 0.048)),
        ("ETH", 6, Closing("target_hit", NOW - timedelta(days=2), 105.0, 0.05, 0.032)),
        ("SOL", 7, Closing("stopped_out", NOW - timedelta(days=3), 98.0, -0.02, -0.022)),
        ("ADA", 4, Closing("cancelled", NOW - timedelta(days=1), 99.0, -0.01, -0.012)),
        ("DOT", 70, Closing("target_hit", NOW - timedelta(days=60), 105.0, 0.05, 0.048)),
    ]
    async with layer4.kit.runtime.require_pool().acquire() as conn:
        await signal_store.insert_new(conn, [_signal("LINK", 2)])
        for symbol, generated, closing in closings:
            (stored,) = await signal_store.insert_new(conn, [_signal(symbol, generated)])
            assert await signal_store.close(conn, stored.id, closing) is not None


async def test_performance_metrics_are_layer4s_live_record_over_the_window(
    admin_with_layer4: RunningAdmin, layer4: RunningLayer, admin_user: Caller
) -> None:
    await _seed(layer4)
    async with admin_with_layer4.client() as client:
        month = await client.get(DASHBOARD, headers=admin_user.headers)
        quarter = await client.get(DASHBOARD, params={"performance_days": 90}, headers=admin_user.headers)
    assert month.status_code == 200, month.text
    performance = month.json()["data"]["performance_metrics"]
    assert performance["status"] == "available" and performance["source"] == "layer4-timing"
    assert performance["period_days"] == 30
    assert performance["signals"] == {
        "generated": 5,
        "open": 1,
        "closed": 4,
        "closed_by_outcome": {"cancelled": 1, "expired": 0, "stopped_out": 1, "target_hit": 2},
    }
    assert (performance["trades"], performance["wins"]) == (3, 2)
    assert performance["win_rate"] == pytest.approx(2 / 3)
    assert performance["total_return"] == pytest.approx(0.058)
    assert performance["average_return"] == pytest.approx(0.058 / 3)
    assert performance["profit_factor"] == pytest.approx(0.080 / 0.022)
    until = datetime.fromisoformat(performance["until"])
    assert until - datetime.fromisoformat(performance["since"]) == timedelta(days=30)

    wider = quarter.json()["data"]["performance_metrics"]
    assert wider["period_days"] == 90 and wider["signals"]["generated"] == 6
    assert (wider["trades"], wider["wins"]) == (4, 3)


async def test_a_window_outside_1_to_365_days_is_refused_in_the_envelope(
    admin_with_layer4: RunningAdmin, admin_user: Caller
) -> None:
    async with admin_with_layer4.client() as client:
        for days in ("0", "366", "month"):
            answer = await client.get(
                DASHBOARD, params={"performance_days": days}, headers=admin_user.headers
            )
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert body["success"] is False and body["error"] == "Validation failed"
            assert "performance_days" in answer.text


@pytest.mark.parametrize(
    ("target", "reason"),
    [(None, "not deployed"), ("unreachable", "layer4-timing unavailable")],
)
async def test_without_layer4_the_section_says_unavailable_and_the_dashboard_still_answers(
    admin_settings, auth_service: Auth, admin_user: Caller, free_port, target, reason
) -> None:
    if target == "unreachable":
        target = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = admin_settings(admin_timing_target=target, admin_timing_timeout_s=2.0)
    async with running_admin(settings, auth_service.app) as admin, admin.client() as client:
        answer = await client.get(DASHBOARD, headers=admin_user.headers)
    assert answer.status_code == 200, answer.text
    sections = answer.json()["data"]
    assert set(sections) == {"watchlist_stats", "suggestion_queue", "system_health", "performance_metrics"}
    performance = sections["performance_metrics"]
    assert performance["status"] == "unavailable" and performance["source"] == "layer4-timing"
    assert reason in performance["reason"], performance
    assert "signals" not in performance
