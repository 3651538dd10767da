"""Helpers for whole-fleet tests: a port offset at which every port of a catalog is free, the
environment a port-shifted fleet may inherit from the developer's shell, and the handle the
tests hold on a running fleet."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cp_fleet.catalog import Catalog, ServiceEntry
from cp_fleet.fleet import Fleet

#: A fleet under test starts its own embedded servers: these must not leak in from the shell.
INFRA_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")


def clean_environ() -> dict[str, str]:
    """The developer's environment without anything that would choose infra, source or layers."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in INFRA_VARIABLES and not k.startswith(("INGESTION_", "LAYER", "ORCHESTRATOR_"))
    }


@dataclass
class FleetHandle:
    """A running port-shifted fleet's addresses, as whole-fleet tests reach them."""

    fleet: Fleet

    @property
    def gateway(self) -> str:
        return self.fleet.gateway_url

    @property
    def database_url(self) -> str:
        return self.fleet.infra_env()["DATABASE_URL"]

    @property
    def redis_url(self) -> str:
        return self.fleet.infra_env()["REDIS_URL"]

    @property
    def kafka_bootstrap(self) -> str:
        return self.fleet.infra_env()["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def state_dir(self) -> Path:
        return self.fleet.layout.state_dir

    def admin_password(self) -> str:
        """The bootstrap admin's generated password (auth writes it into the state dir)."""
        return (self.state_dir / "auth-bootstrap-admin-password").read_text().strip()

    def service(self, name: str) -> ServiceEntry:
        return next(s for s in self.fleet.catalog.services if s.name == name)

    def grpc_target(self, name: str) -> str:
        return f"127.0.0.1:{self.service(name).grpc_port}"

    def http(self, name: str) -> str:
        return f"http://127.0.0.1:{self.service(name).http_port}"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def catalog_ports(catalog: Catalog) -> list[int]:
    """Every port ``catalog`` listens on: gateway, infrastructure, each service's HTTP and gRPC."""
    ports = [
        catalog.gateway.port,
        *(catalog.infrastructure.port_of(n) for n in ("postgres", "redis", "kafka")),
    ]
    for service in catalog.services:
        ports += [service.http_port, *([service.grpc_port] if service.grpc_port else [])]
    return ports


def free_port_offset(catalog: Catalog, *, start: int = 1100, stop: int = 13000, step: int = 223) -> int:
    """The first offset in ``range(start, stop, step)`` at which all of ``catalog``'s ports are free.

    The default range keeps every shifted port below Linux's ephemeral range (32768+): there, a
    readiness probe of a port nobody listens on yet can connect to itself."""
    ports = catalog_ports(catalog)
    for offset in range(start, stop, step):
        if all(port_free(port + offset) for port in ports):
            return offset
    raise RuntimeError("no port offset with every catalog port free")
