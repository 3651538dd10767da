"""The service catalog (``deploy/services.yaml``): infrastructure, gateway and services, validated.

One file describes the local fleet. Adding a service means adding one entry under ``services``;
the supervisord programs, the gateway routes and every service's peer addresses follow from it.
See ``docs/local-fleet.md`` for the schema with an example.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

INFRASTRUCTURE_NAMES = ("postgres", "redis", "kafka")
GATEWAY_NAME = "gateway"
#: The program keeping the gateway's access log bounded (Nginx writes it, not supervisord).
GATEWAY_LOGS_NAME = "gateway-logs"
RESERVED_NAMES = (*INFRASTRUCTURE_NAMES, GATEWAY_NAME, GATEWAY_LOGS_NAME, "supervisord")

ProgramName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
RoutePrefix = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/-]*$")]
RequestRate = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*r/[sm]$")]
NginxSize = Annotated[str, StringConstraints(pattern=r"^[0-9]+[kKmM]?$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
#: A CORS origin: scheme, host and optional port, nothing else (no path, no wildcard).
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]


class CatalogError(ValueError):
    """The catalog file is missing, not YAML, or invalid; the message names each problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InfraServerEntry(_Strict):
    port: Port


class InfrastructureEntry(_Strict):
    """Fixed local ports of the embedded servers (used only when their URL variable is unset)."""

    postgres: InfraServerEntry = InfraServerEntry(port=15432)
    redis: InfraServerEntry = InfraServerEntry(port=16379)
    kafka: InfraServerEntry = InfraServerEntry(port=19092)

    def port_of(self, name: str) -> int:
        entry: InfraServerEntry = getattr(self, name)
        return entry.port


class RateLimitEntry(_Strict):
    """An Nginx ``limit_req`` zone keyed per client IP: ``rate`` like ``100r/s``, then ``burst``."""

    rate: RequestRate
    burst: int = Field(ge=0)


class RateLimitsEntry(_Strict):
    api: RateLimitEntry = RateLimitEntry(rate="100r/s", burst=20)
    websocket: RateLimitEntry = RateLimitEntry(rate="10r/s", burst=5)
    auth: RateLimitEntry = RateLimitEntry(rate="2r/s", burst=10)
    #: The aggregated fleet readiness at ``health_path`` (each call probes every service).
    health: RateLimitEntry = RateLimitEntry(rate="5r/s", burst=10)


class CorsEntry(_Strict):
    """Cross-origin browser access, answered by the gateway for every route (services' own CORS
    headers are dropped). No origin listed: no CORS header is ever sent."""

    allowed_origins: list[Origin] = []
    allow_credentials: bool = False
    max_age_s: int = Field(default=600, ge=0, le=86400)


class TlsEntry(_Strict):
    """HTTPS on ``port`` next to the plain port; HSTS is sent on HTTPS responses only."""

    port: Port = 8443
    certificate: Path
    certificate_key: Path
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)


class CompressionEntry(_Strict):
    """gzip of JSON responses for clients that send ``Accept-Encoding: gzip`` (the seeds' 1,000
    byte threshold: smaller bodies gain less than the compression costs)."""

    enabled: bool = True
    min_length: int = Field(default=1000, ge=0, description="bytes (the response's Content-Length)")
    level: int = Field(default=5, ge=1, le=9)


class GatewayEntry(_Strict):
    """The Nginx gateway: the public entry point of the fleet."""

    port: Port = 8080
    rate_limits: RateLimitsEntry = RateLimitsEntry()
    #: Exact paths limited by the stricter ``auth`` zone (brute-force protection).
    strict_paths: list[RoutePrefix] = ["/api/v1/auth/login", "/api/v1/auth/register"]
    client_max_body_size: NginxSize = "1m"
    client_timeout_s: int = Field(default=15, ge=1, description="client header/body read timeout")
    proxy_connect_timeout_s: int = Field(default=5, ge=1)
    proxy_read_timeout_s: int = Field(default=60, ge=1, description="and proxy_send_timeout")
    websocket_read_timeout_s: int = Field(default=3600, ge=1)
    worker_processes: int = Field(default=2, ge=1)
    #: Aggregated fleet readiness, proxied (rate limited by ``rate_limits.health``) to any
    #: service that is up: every service answers it.
    health_path: RoutePrefix = "/api/v1/health"
    cors: CorsEntry = CorsEntry()
    tls: TlsEntry | None = None
    compression: CompressionEntry = CompressionEntry()


class ServiceEntry(_Strict):
    """One application service, run as ``command`` with its ports and the infrastructure in env."""

    name: ProgramName
    #: argv, or one string split like a shell would; a leading ``python`` means the fleet's Python.
    command: list[str] = Field(min_length=1)
    http_port: Port
    grpc_port: Port | None = None
    #: Gateway route prefixes proxied to this service's HTTP port (``/api/v1/auth/``).
    public_prefixes: list[RoutePrefix] = []
    #: Gateway prefixes proxied with the WebSocket upgrade (``/api/v1/ws/``).
    websocket_prefixes: list[RoutePrefix] = []
    #: Other services (or ``postgres``/``redis``/``kafka``) that must be ready before this one starts.
    depends_on: list[ProgramName] = []
    #: Extra environment; values may refer to generated variables as ``${AUTH_HTTP_URL}``.
    env: dict[EnvName, str] = {}
    readiness_path: RoutePrefix = "/readyz"
    ready_timeout_s: float = Field(default=90, gt=0)

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, value: object) -> object:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value!r} is reserved for the fleet's own programs")
        return value

    @property
    def env_prefix(self) -> str:
        """``layer1-macro`` -> ``LAYER1_MACRO``: prefix of the variables peers get about this service."""
        return re.sub(r"[^A-Z0-9]", "_", self.name.upper())


class LogsEntry(_Strict):
    """Bounds on the local fleet's log files. Each one (program logs through supervisord, the
    gateway's access log through ``gateway-logs``) rotates past ``max_bytes``, keeping
    ``backups`` older files."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=4096)
    backups: int = Field(default=2, ge=1, le=20)
    #: One rate-limited (429) answer in this many is written to the gateway's access log (each
    #: line says its weight), so a flood of refused requests cannot fill the disk.
    sample_429: int = Field(default=100, ge=1, le=10_000)
    #: How often ``gateway-logs`` checks the access log's size.
    rotate_check_s: float = Field(default=2.0, gt=0, le=60)


class Catalog(_Strict):
    version: Literal[1] = 1
    infrastructure: InfrastructureEntry = InfrastructureEntry()
    gateway: GatewayEntry = GatewayEntry()
    logs: LogsEntry = LogsEntry()
    services: list[ServiceEntry] = []

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        problems: list[str] = []
        names = [service.name for service in self.services]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"duplicate service names: {', '.join(duplicates)}")
        known = set(names) | set(INFRASTRUCTURE_NAMES)
        for service in self.services:
            unknown = [dep for dep in service.depends_on if dep not in known]
            if unknown:
                problems.append(f"service {service.name!r} depends on unknown {', '.join(unknown)}")
            if service.name in service.depends_on:
                problems.append(f"service {service.name!r} depends on itself")
        problems += self._port_clashes()
        problems += self._route_clashes()
        if not problems:
            cycle = _find_cycle({s.name: [d for d in s.depends_on if d in names] for s in self.services})
            if cycle:
                problems.append("depends_on cycle: " + " -> ".join(cycle))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _port_clashes(self) -> list[str]:
        owners: dict[int, list[str]] = {}
        for name in INFRASTRUCTURE_NAMES:
            owners.setdefault(self.infrastructure.port_of(name), []).append(name)
        owners.setdefault(self.gateway.port, []).append(GATEWAY_NAME)
        if self.gateway.tls is not None:
            owners.setdefault(self.gateway.tls.port, []).append(f"{GATEWAY_NAME}.tls")
        for service in self.services:
            owners.setdefault(service.http_port, []).append(f"{service.name}.http_port")
            if service.grpc_port is not None:
                owners.setdefault(service.grpc_port, []).append(f"{service.name}.grpc_port")
        return [f"port {port} used by {' and '.join(who)}" for port, who in owners.items() if len(who) > 1]

    def _route_clashes(self) -> list[str]:
        owners: dict[str, list[str]] = {}
        for service in self.services:
            for prefix in [*service.public_prefixes, *service.websocket_prefixes]:
                owners.setdefault(prefix, []).append(service.name)
        return [
            f"route {prefix} claimed by {' and '.join(who)}" for prefix, who in owners.items() if len(who) > 1
        ]

    def service(self, name: str) -> ServiceEntry:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def start_order(self) -> list[list[ServiceEntry]]:
        """Services in waves: each wave depends only on infrastructure and earlier waves."""
        remaining = {service.name: service for service in self.services}
        done: set[str] = set(INFRASTRUCTURE_NAMES)
        waves = []
        while remaining:
            wave = [s for s in remaining.values() if set(s.depends_on) <= done]
            if not wave:  # pragma: no cover - excluded by validation
                raise CatalogError("depends_on cycle")
            waves.append(wave)
            for service in wave:
                done.add(service.name)
                del remaining[service.name]
        return waves

    def shifted(self, offset: int) -> Catalog:
        """The same catalog with every port moved by ``offset`` (to run a second fleet beside one)."""
        if offset == 0:
            return self
        data = self.model_dump()
        for name in INFRASTRUCTURE_NAMES:
            data["infrastructure"][name]["port"] += offset
        data["gateway"]["port"] += offset
        if data["gateway"]["tls"] is not None:
            data["gateway"]["tls"]["port"] += offset
        for service in data["services"]:
            service["http_port"] += offset
            if service["grpc_port"] is not None:
                service["grpc_port"] += offset
        try:
            return Catalog.model_validate(data)
        except ValidationError as exc:
            raise CatalogError(f"port offset {offset}: {_format_errors(exc)}") from None


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog file; :class:`CatalogError` says exactly what is wrong."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_format_errors(exc)}") from None


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{location.lstrip('.') or '(top level)'}: {message}")
    return "; ".join(lines)


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for dep in graph.get(node, []):
            cycle = visit(dep)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in graph:
        cycle = visit(node)
        if cycle:
            return cycle
    return None
