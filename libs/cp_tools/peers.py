"""Who calls whom in the fleet, on which port: the edges the chart's NetworkPolicies allow.

A service reaches a peer through the variables the fleet (and the chart) give every service about
each peer, ``<PREFIX>_HTTP_URL`` and ``<PREFIX>_GRPC_TARGET``. Edges:

- HTTP, from every service to every other: each answers the fleet's aggregated health
  (``cp_common.http.fleet_health``, mounted by ``cp_common.service``) by probing each peer's
  ``/readyz`` at its ``<PREFIX>_HTTP_URL`` (this covers ``depends_on`` too, such as auth's JWKS);
  from the gateway to every service with public or WebSocket routes.
- gRPC, from the services configured with the peer's ``<PREFIX>_GRPC_TARGET`` only: their
  settings read it (a field named after it, such as the layers' ``ingestion_grpc_target``, or a
  validation alias, such as the orchestrator's ``LAYER1_MACRO_GRPC_TARGET`` and
  ``ADMIN_GRPC_TARGET``) or their catalog ``env`` refers to it (admin's
  ``ADMIN_MARKET_DATA_TARGET: ${INGESTION_GRPC_TARGET}``).
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from cp_common.settings import ServiceSettings
from cp_fleet.catalog import Catalog, ServiceEntry

Port = Literal["http", "grpc"]
GATEWAY = "gateway"
#: Peer variable suffix -> the port it addresses.
PEER_SUFFIXES: dict[str, Port] = {"_HTTP_URL": "http", "_GRPC_TARGET": "grpc"}
_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Callers:
    """The programs that open connections to one service, per port."""

    http: tuple[str, ...]
    grpc: tuple[str, ...]


def settings_class(service: ServiceEntry) -> type[ServiceSettings]:
    """The :class:`ServiceSettings` subclass defined in ``<package>.settings``."""
    module_name = module_of(service) + ".settings"
    module = importlib.import_module(module_name)
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, ServiceSettings) and value.__module__ == module_name
    ]
    if len(found) != 1:
        raise ValueError(f"{module_name}: expected one ServiceSettings subclass, found {len(found)}")
    return found[0]


def module_of(service: ServiceEntry) -> str:
    """``python -m auth_service`` -> ``auth_service``."""
    argv = list(service.command)
    if "-m" not in argv:
        raise ValueError(f"service {service.name!r}: command must be 'python -m <package>'")
    return argv[argv.index("-m") + 1]


def _field_variables(name: str, info: FieldInfo) -> set[str]:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    if isinstance(alias, str):
        return {alias.upper()}
    return {(info.alias or name).upper()}


def variables_read(service: ServiceEntry) -> set[str]:
    """Every environment variable the service's settings read, plus its catalog env's references."""
    fields = settings_class(service).model_fields
    read = {variable for name, info in fields.items() for variable in _field_variables(name, info)}
    for value in service.env.values():
        read.update(_REFERENCE.findall(value))
    return read


def peer_edges(catalog: Catalog) -> set[tuple[str, str, Port]]:
    """``(caller, callee, port)`` of every connection a service of the catalog opens to another."""
    edges: set[tuple[str, str, Port]] = set()
    for caller in catalog.services:
        read = variables_read(caller)
        for callee in catalog.services:
            if callee is caller:
                continue
            # the fleet's aggregated health (and ``depends_on``, which names no port: auth's JWKS)
            edges.add((caller.name, callee.name, "http"))
            if callee.grpc_port is not None and f"{callee.env_prefix}_GRPC_TARGET" in read:
                edges.add((caller.name, callee.name, "grpc"))
    return edges


def callers_by_service(catalog: Catalog) -> dict[str, Callers]:
    edges = peer_edges(catalog)
    result = {}
    for service in catalog.services:
        http = {caller for caller, callee, port in edges if callee == service.name and port == "http"}
        if service.public_prefixes or service.websocket_prefixes:
            http.add(GATEWAY)
        grpc = {caller for caller, callee, port in edges if callee == service.name and port == "grpc"}
        result[service.name] = Callers(tuple(sorted(http)), tuple(sorted(grpc)))
    return result
