"""Fixtures: the notification service on real PostgreSQL (a fresh database per module), Redis and
Kafka, served by uvicorn on a free port, with tokens from a test key behind a real JWKS URL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from notification_service.settings import NotificationSettings

from .notification_testing import (
    RunningNotification,
    TokenIssuer,
    free_port,
    running_notification,
    serve_jwks,
)

SettingsFactory = Callable[..., NotificationSettings]


@pytest.fixture(scope="session")
def issuer() -> Iterator[TokenIssuer]:
    with serve_jwks(TokenIssuer()) as running:
        yield running


@pytest.fixture(scope="session")
def notification_settings(
    fresh_database, redis_url, kafka_bootstrap_servers, issuer, tmp_path_factory
) -> SettingsFactory:
    def make(**overrides: Any) -> NotificationSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "http_port": free_port(),
            "database_url": fresh_database("notification"),
            "redis_url": redis_url,
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "jwks_url": issuer.jwks_url,
            "CP_STATE_DIR": tmp_path_factory.mktemp("notification-state"),
            # Each module its own bus, so tests do not see each other's entries.
            "notification_stream_key": f"notification-test:{uuid.uuid4().hex[:8]}",
            "notification_webhook_allow_private": True,
            "notification_webhook_backoff_s": 0.05,
            "notification_webhook_backoff_max_s": 0.2,
            "notification_webhook_poll_s": 0.05,
        }
        values.update(overrides)
        return NotificationSettings(**values)

    return make


@pytest.fixture(scope="module")
async def service(notification_settings: SettingsFactory) -> AsyncIterator[RunningNotification]:
    async with running_notification(notification_settings()) as running:
        yield running
