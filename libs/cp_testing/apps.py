"""A service's app run in-process for tests: its real lifespan (migrations, pools, Kafka,
gRPC, background tasks) on the session's real servers, with typed access to what it opened."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
from fastapi import FastAPI

from cp_common.service import Runtime, ServiceSpec, build_app
from cp_common.settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@dataclass
class RunningApp(Generic[SettingsT]):
    """A started app: ``client()`` talks to it over ASGI (no port), ``runtime`` is what its
    lifespan opened (``runtime.pool``, ``runtime.grpc``, ``runtime.extras``, ...)."""

    app: FastAPI
    settings: SettingsT

    @property
    def runtime(self) -> Runtime:
        runtime = self.app.state.runtime
        if not isinstance(runtime, Runtime):
            raise TypeError("the app was not built by cp_common.service.build_app")
        return runtime

    def client(self, ip: str = "127.0.0.1", base_url: str | None = None) -> httpx.AsyncClient:
        """An HTTP client whose requests come from ``ip`` (per-IP limits see that address)."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(
            transport=transport, base_url=base_url or f"http://{self.settings.service_name}.test"
        )

    @property
    def grpc_target(self) -> str:
        """``host:port`` of the app's gRPC server (the spec must register servicers)."""
        if self.runtime.grpc is None:
            raise RuntimeError("this app runs no gRPC server (no grpc_services or GRPC_PORT=0)")
        return f"127.0.0.1:{self.settings.grpc_port}"


@contextlib.asynccontextmanager
async def running_app(spec: ServiceSpec, settings: SettingsT) -> AsyncIterator[RunningApp[SettingsT]]:
    """Build ``spec``'s app with ``settings`` and run it through its lifespan until the block ends."""
    app = build_app(spec, settings)
    async with app.router.lifespan_context(app):
        yield RunningApp(app, settings)
