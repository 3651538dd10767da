"""The layer's active model, kept in step with the registry, and its status everywhere.

:class:`ModelHolder` runs a :class:`cp_models.registry.watcher.ActiveModelWatcher` (NOTIFY on
activation plus a poll) and adds what a service needs around it:

* deactivation unloads the model (the watcher alone keeps the last one in memory), so the
  layer reports ``inactive`` and refuses analysis at once;
* the status: ``active`` with a model in memory, ``error`` when the active artifact failed to
  load, otherwise ``training`` or ``inactive`` from the registry's newest version;
* the status is published as the ``cp_layer_model_status`` gauge, as the gRPC health of the
  layer's service (SERVING only when ``active``) and as detail of the ``model`` readiness
  check. Readiness itself stays green without a model: the service still answers reads and
  refuses analysis with the named error, and the fleet trains the first models only after
  every service is up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from cp_common.grpc import GrpcServer
from cp_layer_kit.errors import ModelUnavailable
from cp_layer_kit.metrics import MODEL_STATUS, MODEL_VERSION
from cp_models.registry.store import STATUSES, ModelRegistry, ModelVersion
from cp_models.registry.watcher import ActiveModelWatcher

log = logging.getLogger(__name__)
M = TypeVar("M")


@dataclass(frozen=True)
class LoadedModel(Generic[M]):
    """A model in memory with the registry version it came from."""

    model: M
    version: ModelVersion

    @property
    def label(self) -> str:
        """``name:version``, the model version every result carries."""
        return f"{self.version.name}:{self.version.version}"


class _UnloadingWatcher(ActiveModelWatcher[M]):
    """The registry watcher, plus: no active version means no model."""

    def __init__(self, holder: ModelHolder[M], pool: asyncpg.Pool, schema: str, **kwargs: Any) -> None:
        super().__init__(pool, schema, **kwargs)
        self._holder = holder

    async def refresh(self) -> bool:
        try:
            changed = await super().refresh()
        except Exception as exc:
            await self._holder.loaded_failed(exc)
            raise
        self._holder.error = None
        if await self._holder.registry.active(self._holder.model_name) is None and self.model is not None:
            self.model, self.version = None, None
            log.info("model deactivated", extra={"model": self._holder.model_name})
            changed = True
        await self._holder.publish()
        return changed


class ModelHolder(Generic[M]):
    """The active model of one layer (``require()``) and its status (``status``)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        *,
        layer: int,
        layer_key: str,
        model_name: str,
        loader: Callable[[bytes], M],
        poll_interval: float = 30.0,
    ) -> None:
        self.layer = layer
        self.layer_key = layer_key
        self.model_name = model_name
        self.registry = ModelRegistry(pool, schema)
        self.status = "inactive"
        self.error: str | None = None
        self._grpc: tuple[GrpcServer, str] | None = None
        self._watcher: _UnloadingWatcher[M] = _UnloadingWatcher(
            self, pool, schema, name=model_name, loader=loader, poll_interval=poll_interval
        )

    @property
    def loaded(self) -> LoadedModel[M] | None:
        model, version = self._watcher.model, self._watcher.version
        if model is None or version is None:
            return None
        return LoadedModel(model, version)

    def require(self) -> LoadedModel[M]:
        """The model to analyse with; :class:`ModelUnavailable` when there is none."""
        loaded = self.loaded
        if loaded is None or self.status != "active":
            raise ModelUnavailable(self.layer)
        return loaded

    def attach_grpc(self, server: GrpcServer, service_name: str) -> None:
        """Report ``service_name`` SERVING only while a model is active."""
        self._grpc = (server, service_name)

    async def start(self) -> None:
        """First load at start-up; a failure is reported as status, never raised."""
        try:
            await self._watcher.refresh()
        except Exception as exc:
            log.warning("model not loaded at start", extra={"model": self.model_name, "error": repr(exc)})

    async def run(self) -> None:
        """Follow the registry until cancelled (a background task)."""
        await self.publish()
        await self._watcher.run()

    async def loaded_failed(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"[:500]
        self._set_status("error")
        await self._publish_health()

    async def publish(self) -> None:
        """Recompute the status and publish it (gauge, gRPC health)."""
        if self._watcher.model is not None:
            self._set_status("active")
        elif self.error is not None:
            self._set_status("error")
        else:
            self._set_status(await self._registry_status())
        await self._publish_health()

    async def readiness(self) -> dict[str, Any]:
        """Detail for ``/readyz``: never fails (see the module docstring)."""
        loaded = self.loaded
        return {
            "model": self.model_name,
            "status": self.status,
            "version": loaded.version.version if loaded else None,
            **({"error": self.error} if self.error else {}),
        }

    async def _registry_status(self) -> str:
        versions = await self.registry.list(self.model_name)
        if any(v.status == "training" for v in versions):
            return "training"
        return "inactive"

    def _set_status(self, status: str) -> None:
        if status != self.status:
            log.info("model status", extra={"model": self.model_name, "status": status})
        self.status = status
        for name in STATUSES:
            MODEL_STATUS.labels(self.layer_key, self.model_name, name).set(1 if name == status else 0)
        loaded = self.loaded
        MODEL_VERSION.labels(self.layer_key, self.model_name).set(loaded.version.version if loaded else 0)

    async def _publish_health(self) -> None:
        if self._grpc is None:
            return
        server, service_name = self._grpc
        if server.port is None:  # not started yet; run() publishes again once it is
            return
        await server.set_serving(service_name, self.status == "active")
