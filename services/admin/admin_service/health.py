"""System health for admins: every catalog service's readiness, circuit-breaker states, Kafka
consumer lag per group, active model versions, and the last cascade run.

Everything is read from what the services publish themselves, never from their databases: each
peer's ``/readyz`` (readiness and its checks) and ``/metrics`` (``circuit_breaker_state``,
``kafka_consumer_lag_messages``, the layer kit's ``cp_layer_model_status`` and
``cp_layer_model_version``), and the ``cascade.runs.v1`` read model.
Peers come from the ``<NAME>_HTTP_URL`` variables the fleet gives every service. A service of the
blueprint that is not deployed, or a figure nobody exports yet, is reported as ``unavailable``
with the reason, never left out or guessed.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from admin_service.settings import AdminSettings
from admin_service.storage import read_models
from cp_common.http.fleet_health import peers_from_environment

#: The blueprint's services (section 2); those not in the catalog are reported as not deployed.
BLUEPRINT_SERVICES = (
    "auth",
    "ingestion",
    "layer1-macro",
    "layer2-sector",
    "layer3-asset",
    "layer4-timing",
    "orchestrator",
    "admin",
    "notification",
)
BREAKER_METRIC = "circuit_breaker_state"
LAG_METRIC = "kafka_consumer_lag_messages"
#: The layer kit's gauges: 1 for the model's current status (labels ``layer``, ``model``,
#: ``status``), and the version in memory (labels ``layer``, ``model``; 0 for none).
MODEL_STATUS_METRIC = "cp_layer_model_status"
MODEL_VERSION_METRIC = "cp_layer_model_version"
WANTED_METRICS = (BREAKER_METRIC, LAG_METRIC, MODEL_STATUS_METRIC, MODEL_VERSION_METRIC)
BREAKER_STATES = {0: "closed", 1: "half_open", 2: "open"}
SELF = "admin"


def _metrics_of(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        if family.name in WANTED_METRICS:
            for sample in family.samples:
                samples[family.name].append((dict(sample.labels), sample.value))
    return samples


def _breakers(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, str]:
    return {
        labels.get("breaker", "?"): BREAKER_STATES.get(int(value), "unknown")
        for labels, value in samples.get(BREAKER_METRIC, [])
    }


def _lag(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, dict[str, int]]:
    """``{group: {topic: lag summed over partitions}}``."""
    lag: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for labels, value in samples.get(LAG_METRIC, []):
        lag[labels.get("group", "?")][labels.get("topic", "?")] += int(value)
    return {group: dict(by_topic) for group, by_topic in lag.items()}


def _models(samples: dict[str, list[tuple[dict[str, str], float]]]) -> list[dict[str, Any]]:
    versions = {
        (labels.get("layer"), labels.get("model")): int(value)
        for labels, value in samples.get(MODEL_VERSION_METRIC, [])
    }
    return [
        {
            "layer": labels.get("layer", ""),
            "model": labels.get("model", ""),
            "status": labels.get("status", ""),
            "version": versions.get((labels.get("layer"), labels.get("model"))) or None,
        }
        for labels, value in samples.get(MODEL_STATUS_METRIC, [])
        if value
    ]


class SystemHealth:
    def __init__(self, settings: AdminSettings, pool: asyncpg.Pool) -> None:
        self._settings = settings
        self._pool = pool
        self._lock = asyncio.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None

    async def report(self) -> dict[str, Any]:
        async with self._lock:
            ttl = self._settings.admin_health_cache_s
            if self._cached is not None and time.monotonic() - self._cached[0] < ttl:
                return self._cached[1]
            report = await self._collect()
            self._cached = (time.monotonic(), report)
            return report

    async def _collect(self) -> dict[str, Any]:
        peers = {name: url for name, url in peers_from_environment().items() if name != SELF}
        async with httpx.AsyncClient(timeout=self._settings.admin_health_timeout_s) as client:
            probed = await asyncio.gather(*(self._probe(client, url) for url in peers.values()))
        services: dict[str, dict[str, Any]] = dict(zip(peers, probed, strict=True))
        services[SELF] = self._self_report()
        for name in BLUEPRINT_SERVICES:
            services.setdefault(name, {"status": "unavailable", "reason": "not deployed in this fleet"})
        return {
            "generated_at": datetime.now(UTC),
            "overall": _overall(services),
            "services": dict(sorted(services.items())),
            "circuit_breakers": {
                n: s["circuit_breakers"] for n, s in services.items() if s.get("circuit_breakers")
            },
            "consumer_lag": _merge_lag(services),
            "models": _models_section(services),
            "cascade": await self._cascade(),
        }

    async def _probe(self, client: httpx.AsyncClient, base_url: str) -> dict[str, Any]:
        try:
            ready = await client.get(f"{base_url}/readyz")
        except httpx.HTTPError:
            return {"status": "unavailable", "ready": False, "reason": "does not answer"}
        report = _readiness(ready)
        try:
            metrics = await client.get(f"{base_url}/metrics")
            samples = _metrics_of(metrics.text) if metrics.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            samples = {}
        report.update(_from_samples(samples))
        return report

    def _self_report(self) -> dict[str, Any]:
        samples = _metrics_of(generate_latest(REGISTRY).decode())
        # The admin service runs no model: only its breakers and consumer lag are its own.
        return {"status": "ready", "ready": True, "checks": {}, **_from_samples(samples), "models": []}

    async def _cascade(self) -> dict[str, Any]:
        run = await read_models.latest_cascade_run(self._pool)
        if run is None:
            return {"status": "unavailable", "reason": "no cascade run seen on cascade.runs.v1 yet"}
        reference = run["finished_at"] or run["started_at"]
        age = (datetime.now(UTC) - reference).total_seconds() if reference else None
        stale = age is None or age > self._settings.admin_cascade_stale_s
        return {"status": "stale" if stale else "available", "last_run": run, "age_seconds": age}


def _readiness(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json().get("data") or {}
    except ValueError:
        data = {}
    checks = {name: bool(check.get("ok")) for name, check in (data.get("checks") or {}).items()}
    ready = response.status_code == 200
    return {"status": "ready" if ready else "not_ready", "ready": ready, "checks": checks}


def _from_samples(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, Any]:
    return {"circuit_breakers": _breakers(samples), "consumer_lag": _lag(samples), "models": _models(samples)}


def _overall(services: dict[str, dict[str, Any]]) -> str:
    deployed = [s for s in services.values() if s.get("reason") != "not deployed in this fleet"]
    if all(s.get("ready") for s in deployed):
        return "healthy"
    return "degraded" if any(s.get("ready") for s in deployed) else "unhealthy"


def _merge_lag(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    merged: dict[str, dict[str, int]] = {}
    for service in services.values():
        for group, by_topic in (service.get("consumer_lag") or {}).items():
            merged.setdefault(group, {}).update(by_topic)
    return merged


def _models_section(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    active = [{"service": n, **m} for n, s in services.items() for m in s.get("models") or []]
    if not active:
        return {
            "status": "unavailable",
            "reason": f"no deployed service exports {MODEL_STATUS_METRIC}",
            "active": [],
        }
    return {"status": "available", "active": active}
