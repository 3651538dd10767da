"""Policies over the rendered manifests: resources, probes, hardening, PDBs, NetworkPolicies."""

from __future__ import annotations

from typing import Any

import pytest

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
    # nobody but the gateway and monitoring reaches notification (no service depends on it)
    assert _ingress_sources(_policy(documents, "notification")) == {"gateway"}
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
