"""Helpers for the auth tests: the app run in-process on real servers, users, tokens.

Redis is shared by the whole test session, so tests use unique emails (``new_email``) and,
where per-IP counters matter, their own client address.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from auth_service.api.deps import COMPONENTS_KEY
from auth_service.app import SPEC
from auth_service.components import AuthComponents
from auth_service.settings import AuthSettings
from cp_testing.apps import RunningApp, running_app

PASSWORD = "Correct-Horse-9"
#: Cheap argon2id parameters: tests hash hundreds of passwords.
FAST_ARGON2 = {"auth_argon2_time_cost": 1, "auth_argon2_memory_kib": 8192, "auth_argon2_parallelism": 1}


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


@dataclass
class RunningAuth(RunningApp[AuthSettings]):
    """The auth app in-process (``client(ip)`` from :class:`RunningApp`) and its components."""

    @property
    def components(self) -> AuthComponents:
        return self.runtime.extras[COMPONENTS_KEY]

    async def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        async with self.client() as client:
            response = await client.post(
                "/api/v1/auth/register", json={"email": email or new_email(), "password": password}
            )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def login(self, email: str, password: str = PASSWORD, ip: str = "127.0.0.1") -> dict[str, Any]:
        async with self.client(ip) as client:
            response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def user_with_role(self, role: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A fresh user with ``role`` (set directly in the database) and its login answer."""
        user = await self.register()
        async with self.components.pool.acquire() as conn:
            await conn.execute("UPDATE users SET role = $2 WHERE id = $1", uuid.UUID(user["id"]), role)
        return user, await self.login(user["email"])


SettingsFactory = Callable[..., AuthSettings]


@contextlib.asynccontextmanager
async def running_auth(settings: AuthSettings) -> AsyncIterator[RunningAuth]:
    async with running_app(SPEC, settings) as running:
        yield RunningAuth(running.app, running.settings)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
