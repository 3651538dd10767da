"""Helpers for whole-fleet tests: a port offset at which every port of a catalog is free, and the
infrastructure variables a port-shifted fleet must not inherit from the developer's shell."""

from __future__ import annotations

import socket

from cp_fleet.catalog import Catalog

#: A fleet under test starts its own embedded servers: these must not leak in from the shell.
INFRA_VARIABLES = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")


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
