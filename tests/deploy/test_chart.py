"""The Helm chart renders under every values scenario, validates strictly and lints clean."""

from __future__ import annotations

import copy
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from cp_fleet.catalog import load_catalog
from cp_tools import chart as chart_tool

from .rendering import CHART_DIR, KUBE_VERSION, SCENARIOS, chart, render, render_values, scenario_values

#: Custom resources of the Prometheus Operator: kubernetes-validate has no schema for them, so
#: their metadata is checked here and their spec by the dedicated tests (promtool for the rules).
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_manifest_validates_strictly(scenario: str) -> None:
    documents = render(scenario)
    assert documents
    for doc in documents:
        if doc["kind"] in CUSTOM_KINDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            assert doc["metadata"]["name"] and doc["spec"]
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{scenario}: {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}"
            )


def test_custom_resources_render_when_switched_on() -> None:
    kinds = {doc["kind"] for doc in render("prod")}
    assert CUSTOM_KINDS <= kinds
    dashboards = [
        d
        for d in render("prod")
        if d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"]["labels"]
    ]
    assert len(dashboards) >= 6


@pytest.mark.parametrize("scenario", ["defaults", "prod", "dev-bundled-infra"])
def test_helm_lint_is_clean(scenario: str) -> None:
    report = helm.lint(
        str(CHART_DIR), scenario_values(scenario), strict=True, kube_version=f"v{KUBE_VERSION}"
    )
    assert report["errors"] == [], report
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"defaults": {"replicas": "three"}}, "/defaults/replicas"),
        (
            {"services": {"auth": {"resources": {"limits": {"cpu": "lots"}}}}},
            "/services/auth/resources/limits/cpu",
        ),
        ({"services": {"auth": {"replica": 2}}}, "replica"),
        ({"kafka": {"enabled": "yes"}}, "/kafka/enabled"),
        ({"infrastructure": {"kafka": {"bundled": True}}}, "bundled"),
        ({"ingress": {"enabled": True, "hosts": []}}, "/ingress/hosts"),
    ],
)
def test_a_malformed_values_file_is_rejected_with_the_offending_key(
    override: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(helm.HelmError) as caught:
        chart().validate_schema(override)
    assert fragment in str(caught.value)
    with pytest.raises(helm.HelmError):
        render_values(override)


def test_the_shipped_values_files_pass_the_schema() -> None:
    for name in SCENARIOS:
        chart().validate_schema(scenario_values(name))


def test_generated_files_match_the_catalog() -> None:
    drifted = chart_tool.stale(chart_tool.generate())
    assert drifted == [], "stale (run python -m cp_tools.chart)"


def test_a_catalog_change_is_detected_as_drift(tmp_path: Any) -> None:
    catalog = yaml.safe_load(chart_tool.CATALOG_PATH.read_text())
    extra = copy.deepcopy(catalog["services"][0])
    extra.update(name="extra-svc", http_port=8119, grpc_port=9119, public_prefixes=["/api/v1/extra/"])
    catalog["services"].append(extra)
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(catalog))
    drifted = chart_tool.stale(chart_tool.generate(catalog_path=path))
    assert chart_tool.VALUES_PATH in drifted and chart_tool.SKAFFOLD_PATH in drifted


def test_every_catalog_service_is_deployed_with_its_ports() -> None:
    catalog = load_catalog(chart_tool.CATALOG_PATH)
    documents = render("defaults")
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
    for entry in catalog.services:
        name = f"cp-cryptopredict-{entry.name}"
        assert name in deployments, entry.name
        ports = {p["name"]: p["port"] for p in services[name]["spec"]["ports"]}
        assert ports["http"] == entry.http_port
        assert ports.get("grpc") == entry.grpc_port


def test_the_gateway_config_map_routes_every_public_prefix_to_its_service() -> None:
    catalog = load_catalog(chart_tool.CATALOG_PATH)
    config = next(
        d
        for d in render("defaults")
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-gateway")
    )
    nginx = config["data"]["nginx.conf"]
    assert "__FULLNAME__" not in nginx and "127.0.0.1" not in nginx
    for entry in catalog.services:
        if entry.public_prefixes or entry.websocket_prefixes:
            assert f"server cp-cryptopredict-{entry.name}:{entry.http_port};" in nginx
    for prefix in catalog.services[0].public_prefixes:
        assert prefix in nginx


def test_kafka_producer_idempotence_is_on_against_real_kafka() -> None:
    for scenario in ("defaults", "dev-bundled-infra"):
        for doc in render(scenario):
            if (
                doc["kind"] != "Deployment"
                or doc["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway"
            ):
                continue
            env = {e["name"]: e.get("value") for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true", doc["metadata"]["name"]


def test_secrets_come_only_from_existing_secrets() -> None:
    for scenario in SCENARIOS:
        documents = render(scenario)
        assert not [d for d in documents if d["kind"] == "Secret"], scenario
        for doc in documents:
            text = yaml.safe_dump(doc)
            assert "password:" not in text.lower() or doc["kind"] == "NetworkPolicy"


def test_every_notification_replica_signs_web_pushes_with_the_shared_vapid_secret() -> None:
    for scenario in SCENARIOS:
        deployments = [
            doc
            for doc in render(scenario)
            if doc["kind"] == "Deployment"
            and doc["metadata"]["labels"]["app.kubernetes.io/component"] == "notification"
        ]
        assert len(deployments) == 1, scenario
        env = deployments[0]["spec"]["template"]["spec"]["containers"][0]["env"]
        (vapid,) = [e for e in env if e["name"] == "NOTIFICATION_VAPID_PRIVATE_KEY"]
        assert vapid["valueFrom"]["secretKeyRef"] == {
            "name": "cryptopredict-notification-vapid",
            "key": "private-key",
        }, scenario


def test_migrations_run_as_pre_install_and_pre_upgrade_hooks() -> None:
    jobs = [d for d in render("defaults") if d["kind"] == "Job"]
    catalog_services = chart().values["catalogServices"]
    with_migrations = [name for name, entry in catalog_services.items() if entry["migrations"]]
    assert with_migrations
    assert len(jobs) == len(with_migrations)
    for job in jobs:
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert job["spec"]["template"]["spec"]["containers"][0]["args"][-1] == "migrate"


def test_training_is_a_cron_job_writing_to_the_registry() -> None:
    (cron,) = [d for d in render("defaults") if d["kind"] == "CronJob"]
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["-m", "cp_models.registry", "train"]
    assert not [d for d in render("minimal") if d["kind"] == "CronJob"]


def test_a_bundled_subchart_rejects_malformed_values_with_its_own_schema() -> None:
    with pytest.raises(helm.HelmError) as caught:
        render_values({"kafka": {"enabled": True, "storage": "lots"}})
    assert "kafka" in str(caught.value) and "storage" in str(caught.value)


def test_bundled_infrastructure_subcharts_are_declared_dependencies_behind_switches() -> None:
    metadata = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    dependencies = {d["name"]: d for d in metadata["dependencies"]}
    assert set(dependencies) == {"postgresql", "redis", "kafka"}
    for name, dependency in dependencies.items():
        assert dependency["repository"] == f"file://charts/{name}"
        assert dependency["condition"] == f"{name}.enabled"
        assert values[name]["enabled"] is False  # external infrastructure by default
        sub = yaml.safe_load((CHART_DIR / "charts" / name / "Chart.yaml").read_text())
        assert (sub["name"], sub["version"]) == (name, dependency["version"])
    dev = yaml.safe_load((CHART_DIR / "values-dev.yaml").read_text())
    assert all(dev[name]["enabled"] is True for name in dependencies)
