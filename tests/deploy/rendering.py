"""Render the Helm chart offline with Helm's own Go SDK (helm-python-sdk) under named scenarios."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "cryptopredict"
RELEASE = "cp"
NAMESPACE = "cryptopredict"
#: The Kubernetes version manifests are validated against (kubernetes-validate's newest schemas).
KUBE_VERSION = "1.36.0"

#: Values scenarios: a list of values files of the chart, then inline overrides.
SCENARIOS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "defaults": ([], {}),
    "prod": (["values-prod.yaml"], {}),
    "minimal": (["values-minimal.yaml"], {}),
    "dev-bundled-infra": (["values-dev.yaml"], {}),
    "network-policies-off": ([], {"networkPolicy": {"enabled": False}}),
    "everything-on": (
        ["values-prod.yaml"],
        {"postgresql": {"enabled": True}, "redis": {"enabled": True}, "kafka": {"enabled": True}},
    ),
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def scenario_values(name: str) -> dict[str, Any]:
    files, inline = SCENARIOS[name]
    values: dict[str, Any] = {}
    for file in files:
        values = _merge(values, yaml.safe_load((CHART_DIR / file).read_text()))
    return _merge(values, inline)


@functools.cache
def chart() -> helm.Chart:
    return helm.Chart.load(str(CHART_DIR))


def render_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every manifest the chart renders for ``values`` (hooks included), as parsed documents.

    Each render loads the chart afresh: like ``helm install``, rendering drops the subcharts whose
    ``condition`` is off from the loaded chart itself, so a reused one would lose them."""
    loaded = helm.Chart.load(str(CHART_DIR))
    try:
        rendered = loaded.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    finally:
        loaded.close()
    documents: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


@functools.cache
def _render_cached(name: str) -> str:
    return yaml.safe_dump_all(render_values(scenario_values(name)))


def render(name: str) -> list[dict[str, Any]]:
    """The manifests of scenario ``name`` (rendered once per test session)."""
    return [doc for doc in yaml.safe_load_all(_render_cached(name)) if doc]


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents if doc["kind"] == kind]


def pod_specs(documents: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(``Kind/name``, pod spec) of every workload."""
    specs = []
    for doc in documents:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            specs.append((name, doc["spec"]["template"]["spec"]))
        elif doc["kind"] == "CronJob":
            specs.append((name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    return specs
