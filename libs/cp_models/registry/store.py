"""Register, list, promote and load model versions in one layer's schema."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from cp_common.db.migrations import upgrade

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "model_registry_version"
STATUSES = ("training", "active", "inactive", "error")


def activation_channel(schema: str) -> str:
    return f"model_activated_{schema}"


def ensure_registry_schema(database_url: str, schema: str) -> None:
    """Create or upgrade the registry table in ``schema`` (blocking; idempotent)."""
    upgrade(database_url, schema, MIGRATIONS_DIR, version_table=VERSION_TABLE)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    status: str
    artifact_sha256: str | None
    artifact_bytes: int | None
    training_window_start: date | None
    training_window_end: date | None
    features: list[Any]
    hyper_parameters: dict[str, Any]
    metrics: dict[str, Any]
    metadata: dict[str, Any]
    error: str | None
    created_at: datetime
    activated_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ModelVersion:
        return cls(
            name=row["name"],
            version=row["version"],
            status=row["status"],
            artifact_sha256=row["artifact_sha256"],
            artifact_bytes=row["artifact_bytes"],
            training_window_start=row["training_window_start"],
            training_window_end=row["training_window_end"],
            features=json.loads(row["features"]),
            hyper_parameters=json.loads(row["hyper_parameters"]),
            metrics=json.loads(row["metrics"]),
            metadata=json.loads(row["metadata"]),
            error=row["error"],
            created_at=row["created_at"],
            activated_at=row["activated_at"],
        )


_COLUMNS = (
    "name, version, status, artifact_sha256, artifact_bytes, training_window_start, training_window_end, "
    "features, hyper_parameters, metrics, metadata, error, created_at, activated_at"
)


def _finite(value: Any) -> Any:
    """``value`` with every NaN/infinite float replaced by None: JSON (and jsonb) has no NaN, and
    a metric that could not be computed (a layer with no trades in the holdout) is unknown."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(_finite(value), default=str, allow_nan=False)


class ModelRegistry:
    """The registry table of one schema. ``pool`` connections must reach that schema's table
    (its search path starts with ``schema``, as :func:`cp_common.db.create_pool` sets it)."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self.schema = schema

    async def start_training(self, name: str, *, hyper_parameters: dict[str, Any] | None = None) -> int:
        """Reserve the next version number with status ``training``."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"registry.{self.schema}.{name}")
            version = await conn.fetchval(
                "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = $1", name
            )
            await conn.execute(
                "INSERT INTO model_versions (name, version, status, hyper_parameters) "
                "VALUES ($1, $2, 'training', $3)",
                name,
                version,
                _json(hyper_parameters or {}),
            )
            return int(version)

    async def finish_training(
        self,
        name: str,
        version: int,
        artifact: bytes,
        *,
        training_window: tuple[date | None, date | None] = (None, None),
        features: list[Any] | None = None,
        hyper_parameters: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Store the artifact and its provenance; the version becomes ``inactive`` until promoted."""
        result = await self._pool.execute(
            """
            UPDATE model_versions SET status = 'inactive', artifact = $3, artifact_sha256 = $4,
                artifact_bytes = $5, training_window_start = $6, training_window_end = $7,
                features = $8, hyper_parameters = coalesce($9::jsonb, hyper_parameters),
                metrics = $10, metadata = $11
            WHERE name = $1 AND version = $2 AND status = 'training'
            """,
            name,
            version,
            artifact,
            hashlib.sha256(artifact).hexdigest(),
            len(artifact),
            training_window[0],
            training_window[1],
            _json(features or []),
            _json(hyper_parameters) if hyper_parameters is not None else None,
            _json(metrics or {}),
            _json(metadata or {}),
        )
        if result != "UPDATE 1":
            raise LookupError(f"{name} v{version} is not in training")

    async def fail_training(self, name: str, version: int, error: str) -> None:
        await self._pool.execute(
            "UPDATE model_versions SET status = 'error', error = $3 WHERE name = $1 AND version = $2",
            name,
            version,
            error[:2000],
        )

    async def activate(self, name: str, version: int) -> None:
        """Make ``version`` the active one (the previous active becomes inactive) and notify."""
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM model_versions WHERE name = $1 AND version = $2 FOR UPDATE", name, version
            )
            if status is None:
                raise LookupError(f"{name} v{version} does not exist")
            if status in ("training", "error"):
                raise ValueError(f"{name} v{version} is {status} and cannot be activated")
            await conn.execute(
                "UPDATE model_versions SET status = 'inactive' WHERE name = $1 AND status = 'active'", name
            )
            await conn.execute(
                "UPDATE model_versions SET status = 'active', activated_at = now() "
                "WHERE name = $1 AND version = $2",
                name,
                version,
            )
            channel = activation_channel(self.schema)
            await conn.execute("SELECT pg_notify($1, $2)", channel, f"{name}:{version}")

    async def deactivate(self, name: str) -> bool:
        """Take ``name`` out of service: its active version becomes inactive and the services
        serving it are notified (they then refuse analysis). Returns whether one was active."""
        async with self._pool.acquire() as conn, conn.transaction():
            version = await conn.fetchval(
                "UPDATE model_versions SET status = 'inactive' WHERE name = $1 AND status = 'active' "
                "RETURNING version",
                name,
            )
            if version is None:
                return False
            await conn.execute("SELECT pg_notify($1, $2)", activation_channel(self.schema), f"{name}:0")
            return True

    async def promote_if_not_worse(
        self, name: str, version: int, metric: str, *, higher_is_better: bool
    ) -> bool:
        """Activate ``version`` when its out-of-sample ``metric`` is not worse than the active
        one's (or when nothing is active yet). Returns whether it was activated."""
        candidate = await self.get(name, version)
        active = await self.active(name)
        if active is not None and active.version != version:
            new, old = candidate.metrics.get(metric), active.metrics.get(metric)
            if new is None:
                return False
            if old is not None and (new < old if higher_is_better else new > old):
                return False
        await self.activate(name, version)
        return True

    async def get(self, name: str, version: int) -> ModelVersion:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM model_versions WHERE name = $1 AND version = $2",  # noqa: S608
            name,
            version,
        )
        if row is None:
            raise LookupError(f"{name} v{version} does not exist")
        return ModelVersion.from_row(row)

    async def active(self, name: str) -> ModelVersion | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM model_versions WHERE name = $1 AND status = 'active'",  # noqa: S608
            name,
        )
        return ModelVersion.from_row(row) if row else None

    async def load_active(self, name: str) -> tuple[ModelVersion, bytes] | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS}, artifact FROM model_versions WHERE name = $1 AND status = 'active'",  # noqa: S608
            name,
        )
        if row is None:
            return None
        artifact = bytes(row["artifact"])
        if hashlib.sha256(artifact).hexdigest() != row["artifact_sha256"]:
            raise ValueError(f"{name} v{row['version']}: artifact checksum mismatch")
        return ModelVersion.from_row(row), artifact

    async def list(self, name: str | None = None) -> list[ModelVersion]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM model_versions WHERE $1::text IS NULL OR name = $1 "  # noqa: S608
            "ORDER BY name, version",
            name,
        )
        return [ModelVersion.from_row(r) for r in rows]
