"""Fixtures: the auth app on real PostgreSQL (a fresh database per app), Redis and Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from auth_service.settings import AuthSettings

from .auth_testing import FAST_ARGON2, RunningAuth, SettingsFactory, running_auth


@pytest.fixture(scope="session")
def auth_settings(fresh_database, redis_url, kafka_bootstrap_servers, tmp_path_factory) -> SettingsFactory:
    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": fresh_database("auth"),
            "redis_url": redis_url,
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "CP_STATE_DIR": tmp_path_factory.mktemp("auth-state"),
            "auth_register_limit": 100_000,
            "auth_ip_failure_limit": 100_000,
            "auth_bootstrap_admin_email": None,
            **FAST_ARGON2,
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


@pytest.fixture(scope="module")
async def auth(auth_settings: SettingsFactory) -> AsyncIterator[RunningAuth]:
    async with running_auth(auth_settings()) as running:
        yield running
