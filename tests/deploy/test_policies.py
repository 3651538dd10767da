"""Policies over the rendered manifests: resources, probes, hardening, PDBs, NetworkPolicies."""

from __future__ import annotations

import os
import re
from typing import Any
from unittest import mock

import pytest

from cp_common.http.fleet_health import peers_from_environment
from cp_common.settings import ServiceSettings
from cp_fleet.catalog import ServiceEntry, load_catalog
from cp_tools import chart as chart_tool
from cp_tools import peers

from .rendering import SCENARIOS, of_kind, pod_specs, render

HARDENED_SCENARIOS = sorted(SCENARIOS)


def _labels_match(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("scenario", HARDENED_SCENARIOS)
def test_every_container_has_requests_limits_and_runs_hardened(scenario: str) -> None:
    specs = pod_specs(render(scenario))
    assert specs
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in spec["containers"]:
            where = f"{name}/{container['name']}"
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
                resources["limits"]
            ), where
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", where


@pytest.mark.parametrize("scenario", HARDENED_SCENARIOS)
def test_every_long_running_container_has_liveness_and_readiness_probes(scenario: str) -> None:
    for name, spec in pod_specs(render(scenario)):
        if name.startswith(("Job/", "CronJob/")):
            continue
        for container in spec["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container, (
                f"{name}/{container['name']}"
            )


def test_service_probes_are_http_healthz_readyz_and_grpc_on_grpc_ports() -> None:
    for doc in of_kind(render("defaults"), "Deployment"):
        if doc["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway":
            continue
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        grpc_ports = [p["containerPort"] for p in container["ports"] if p["name"] == "grpc"]
        if grpc_ports:
            assert container["startupProbe"]["grpc"]["port"] == grpc_ports[0], doc["metadata"]["name"]


@pytest.mark.parametrize("scenario", HARDENED_SCENARIOS)
def test_every_deployment_has_a_pdb(scenario: str) -> None:
    documents = render(scenario)
    pdbs = of_kind(documents, "PodDisruptionBudget")
    for deployment in of_kind(documents, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert [p for p in pdbs if _labels_match(p["spec"]["selector"], labels)], deployment["metadata"][
            "name"
        ]


@pytest.mark.parametrize("scenario", [s for s in HARDENED_SCENARIOS if s != "network-policies-off"])
def test_every_workload_is_selected_by_its_own_network_policy(scenario: str) -> None:
    documents = render(scenario)
    policies = of_kind(documents, "NetworkPolicy")
    deny_all = [p for p in policies if p["metadata"]["name"].endswith("-deny-all")]
    assert deny_all and set(deny_all[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    for doc in documents:
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        labels = doc["spec"]["template"]["metadata"]["labels"]
        own = [
            p
            for p in policies
            if "app.kubernetes.io/component" in p["spec"]["podSelector"].get("matchLabels", {})
            and _labels_match(p["spec"]["podSelector"], labels)
        ]
        assert own, f"{scenario}: {doc['metadata']['name']} has no NetworkPolicy of its own"


def test_network_policies_are_off_when_switched_off() -> None:
    assert not of_kind(render("network-policies-off"), "NetworkPolicy")


def _policy(documents: list[dict[str, Any]], component: str) -> dict[str, Any]:
    return next(
        p
        for p in of_kind(documents, "NetworkPolicy")
        if p["metadata"]["name"] == f"cp-cryptopredict-{component}"
    )


def _ingress_sources(policy: dict[str, Any]) -> set[str]:
    sources = set()
    for rule in policy["spec"]["ingress"]:
        for peer in rule["from"]:
            component = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
            if component:
                sources.add(component)
    return sources


def test_callers_follow_the_catalog() -> None:
    documents = render("defaults")
    # the gateway reaches the public REST services; admin calls ingestion (its depends_on)
    assert {"gateway", "admin"} <= _ingress_sources(_policy(documents, "ingestion"))
    # notification has no gRPC port: only HTTP rules (the gateway, the fleet-health probes)
    ports = {
        p["port"] for rule in _policy(documents, "notification")["spec"]["ingress"] for p in rule["ports"]
    }
    assert ports == {"http"}
    gateway_egress = _policy(documents, "gateway")["spec"]["egress"]
    reached = {
        r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for r in gateway_egress
    }
    assert "auth" in reached and "ingestion" in reached


def test_bundled_infrastructure_is_reached_by_pod_selector() -> None:
    documents = render("dev-bundled-infra")
    egress = _policy(documents, "auth")["spec"]["egress"]
    targets = {
        peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
        for rule in egress
        for peer in rule["to"]
    }
    assert {"postgres", "redis", "kafka"} <= targets
    assert {"StatefulSet"} <= {d["kind"] for d in documents}
    assert not of_kind(render("defaults"), "StatefulSet")


def _env_of(container: dict[str, Any]) -> dict[str, str]:
    """The container's variables with ``$(NAME)`` expanded; Secret-backed ones get placeholders."""
    env: dict[str, str] = {}
    placeholders = {"DATABASE_URL": "postgresql://u:p@db:5432/cp", "REDIS_URL": "redis://redis:6379/0"}
    for item in container["env"]:
        value = item.get("value", placeholders.get(item["name"], "from-a-secret"))
        env[item["name"]] = re.sub(r"\$\(([A-Z_][A-Z0-9_]*)\)", lambda m: env.get(m[1], m[0]), value)
    return env


def _addressed(value: object, ports: dict[tuple[str, int], tuple[str, str]]) -> tuple[str, str] | None:
    """``(service, port name)`` when ``value`` is ``host:port`` or a URL of a rendered Service."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(?:https?://)?([a-z0-9-]+):([0-9]+)(?:/.*)?", value)
    return ports.get((match[1], int(match[2]))) if match else None


def _configured_targets(documents: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """``(caller, callee, port name)`` of every peer address a service is really configured with:
    its settings class read from the rendered environment, plus the fleet-health probe's peers."""
    ports = {
        (s["metadata"]["name"], p["port"]): (
            s["metadata"]["labels"]["app.kubernetes.io/component"],
            p["name"],
        )
        for s in of_kind(documents, "Service")
        for p in s["spec"]["ports"]
    }
    edges: set[tuple[str, str, str]] = set()
    for service in load_catalog(chart_tool.CATALOG_PATH).services:
        env = _env_of(_container(documents, service.name))
        settings = _settings(service, env)
        values = [*settings.model_dump().values(), *peers_from_environment(env).values()]
        for value in values:
            target = _addressed(value, ports)
            if target is not None and target[0] != service.name:
                edges.add((service.name, *target))
    return edges


def _container(documents: list[dict[str, Any]], component: str) -> dict[str, Any]:
    name = f"cp-cryptopredict-{component}"
    deployment = next(d for d in of_kind(documents, "Deployment") if d["metadata"]["name"] == name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _settings(service: ServiceEntry, env: dict[str, str]) -> ServiceSettings:
    """The service's settings as its container would read them (nothing else in the environment)."""
    with mock.patch.dict(os.environ, env, clear=True):
        return peers.settings_class(service)()


@pytest.mark.parametrize("scenario", HARDENED_SCENARIOS)
def test_every_service_accepts_its_rendered_environment(scenario: str) -> None:
    documents = render(scenario)
    for service in load_catalog(chart_tool.CATALOG_PATH).services:
        env = _env_of(_container(documents, service.name))
        settings = _settings(service, env)
        assert (settings.service_name, settings.environment) == (service.name, env["ENVIRONMENT"])


def _admits(policy: dict[str, Any], caller: str, port: str) -> bool:
    return any(
        any(p["port"] == port for p in rule["ports"])
        and any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == caller
            for peer in rule["from"]
        )
        for rule in policy["spec"]["ingress"]
    )


def _lets_out(policy: dict[str, Any], callee: str, port: int) -> bool:
    return any(
        any(p["port"] == port for p in rule["ports"])
        and any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == callee
            for peer in rule["to"]
        )
        for rule in policy["spec"]["egress"]
    )


def test_every_configured_peer_target_is_allowed_by_both_network_policies() -> None:
    documents = render("defaults")
    edges = _configured_targets(documents)
    # the edges that were once missing, and the layers' and admin's gRPC calls
    assert ("orchestrator", "admin", "grpc") in edges
    assert {("orchestrator", f"layer{n}", "grpc") for n in range(1, 5)} <= {
        (a, b.split("-")[0], c) for a, b, c in edges
    }
    assert ("admin", "ingestion", "grpc") in edges and ("layer1-macro", "ingestion", "grpc") in edges
    blocked = []
    for caller, callee, port in sorted(edges):
        ports = _container(documents, callee)["ports"]
        number = next(p["containerPort"] for p in ports if p["name"] == port)
        if not _admits(_policy(documents, callee), caller, port):
            blocked.append(f"{callee}'s ingress refuses {caller} on {port}")
        if not _lets_out(_policy(documents, caller), callee, number):
            blocked.append(f"{caller}'s egress refuses {callee}:{number}")
    assert not blocked, "\n".join(blocked)


def test_grpc_ports_admit_only_configured_callers() -> None:
    documents = render("defaults")
    configured = {(a, b) for a, b, port in _configured_targets(documents) if port == "grpc"}
    for policy in of_kind(documents, "NetworkPolicy"):
        callee = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        for rule in policy["spec"].get("ingress", []):
            if any(p["port"] == "grpc" for p in rule["ports"]):
                callers = {
                    peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in rule["from"]
                }
                assert {(c, callee) for c in callers} <= configured, (callee, callers)
