"""Keep a service's in-memory model in step with the registry's active version, no restart.

Activation sends a PostgreSQL NOTIFY; the watcher LISTENs for it and also polls as a fallback
(a missed notification during a reconnect is picked up at the next poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

import asyncpg

from cp_models.registry.store import ModelRegistry, ModelVersion, activation_channel

log = logging.getLogger(__name__)
M = TypeVar("M")


class ActiveModelWatcher(Generic[M]):
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        name: str,
        loader: Callable[[bytes], M],
        *,
        poll_interval: float = 30.0,
    ) -> None:
        self._pool = pool
        self._registry = ModelRegistry(pool, schema)
        self._schema = schema
        self._name = name
        self._loader = loader
        self._poll_interval = poll_interval
        self._changed = asyncio.Event()
        self.model: M | None = None
        self.version: ModelVersion | None = None

    async def refresh(self) -> bool:
        """Load the active version if it differs from the one in memory; returns whether it changed."""
        active = await self._registry.active(self._name)
        if active is None or (self.version is not None and active.version == self.version.version):
            return False
        loaded = await self._registry.load_active(self._name)
        if loaded is None:
            return False
        version, artifact = loaded
        self.model = await asyncio.to_thread(self._loader, artifact)
        self.version = version
        log.info("model loaded", extra={"model": self._name, "version": version.version})
        return True

    async def run(self) -> None:
        listener = await self._pool.acquire()
        channel = activation_channel(self._schema)

        def on_notify(*args: object) -> None:
            payload = str(args[-1])
            if payload.split(":", 1)[0] == self._name:
                self._changed.set()

        await listener.add_listener(channel, on_notify)
        try:
            while True:
                try:
                    await self.refresh()
                except Exception as exc:  # keep serving the model in memory
                    log.warning("model refresh failed", extra={"model": self._name, "error": repr(exc)})
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self._poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(channel, on_notify)
            await self._pool.release(listener)
