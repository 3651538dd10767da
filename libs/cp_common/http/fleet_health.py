"""The fleet's aggregated readiness as one public route (``GET /api/v1/health`` at the gateway).

Whichever service mounts :func:`fleet_health_router` probes every peer's ``/readyz`` in parallel
and answers ``{"status": "healthy", "services": {"auth": {"ready": true}, ...}}`` (200), or the
error envelope with the same ``data`` and 503 when a service is not ready (``degraded``) or none
is (``unhealthy``). Only names and booleans are shown: no addresses, errors or latencies leave
the fleet. Results are cached for ``cache_seconds`` and concurrent requests share one probe
round, so the route cannot be used to multiply load on the fleet (the gateway rate-limits it too).

Peers come from the variables the local fleet (and the Helm chart) give every service:
``<NAME>_HTTP_URL`` (``LAYER1_MACRO_HTTP_URL`` -> ``layer1-macro``).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cp_common.http.envelope import error_body, ok

_PEER_VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)_HTTP_URL$")


def peers_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{service name: base URL}`` from every ``<NAME>_HTTP_URL`` variable."""
    environ = os.environ if environ is None else environ
    peers = {}
    for variable, value in environ.items():
        match = _PEER_VARIABLE.match(variable)
        if match and value.startswith(("http://", "https://")):
            peers[match[1].lower().replace("_", "-")] = value.rstrip("/")
    return dict(sorted(peers.items()))


class FleetProbe:
    """Probes ``peers`` (default: :func:`peers_from_environment`, read at the first probe)."""

    def __init__(
        self, peers: Mapping[str, str] | None = None, *, timeout: float = 2.0, cache_seconds: float = 2.0
    ) -> None:
        self._peers = dict(peers) if peers is not None else None
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._lock = asyncio.Lock()
        self._cached: tuple[float, dict[str, bool]] | None = None

    @property
    def peers(self) -> dict[str, str]:
        if self._peers is None:
            self._peers = peers_from_environment()
        return self._peers

    async def readiness(self) -> dict[str, bool]:
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            peers = self.peers
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                results = await asyncio.gather(*(self._ready(client, url) for url in peers.values()))
            report = dict(zip(peers, results, strict=True))
            self._cached = (time.monotonic(), report)
            return report

    async def _ready(self, client: httpx.AsyncClient, base_url: str) -> bool:
        try:
            response = await client.get(f"{base_url}/readyz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def fleet_status(report: Mapping[str, bool]) -> str:
    if report and all(report.values()):
        return "healthy"
    return "degraded" if any(report.values()) else "unhealthy"


def fleet_health_router(probe: FleetProbe, *, path: str = "/api/v1/health") -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(path)
    async def fleet_health() -> Any:
        report = await probe.readiness()
        status = fleet_status(report)
        data = {"status": status, "services": {name: {"ready": ready} for name, ready in report.items()}}
        if status == "healthy":
            return ok(data)
        body = error_body(f"fleet {status}", 503)
        body["data"] = data
        return JSONResponse(body, status_code=503)

    return router
