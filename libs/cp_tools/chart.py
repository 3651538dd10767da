"""Generate the Kubernetes artefacts that follow from the service catalog (``deploy/services.yaml``).

``python -m cp_tools.chart`` rewrites them; ``python -m cp_tools.chart --check`` exits 1 naming
every file that has drifted from the catalog (a test runs it too). Generated:

- the ``services`` map in ``helm/cryptopredict/values.yaml`` (between the ``BEGIN``/``END``
  markers; everything else in that file is hand-written defaults),
- the gateway's ``nginx.conf`` in ``helm/cryptopredict/files/``, rendered by the same
  :func:`cp_fleet.nginx_config.render_gateway_config` as the local fleet, with each upstream
  pointed at the service's Kubernetes Service (``__FULLNAME__`` is the release's full name,
  filled in by the chart),
- ``skaffold.yaml``: one artifact and one module per service,
- the chart's copy of the alert rules (``deploy/prometheus/alerts.yaml``).

Which callers reach a service on which port (its NetworkPolicy) follows from the catalog and the
services' settings: :mod:`cp_tools.peers`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cp_fleet.catalog import INFRASTRUCTURE_NAMES, Catalog, ServiceEntry, load_catalog
from cp_fleet.nginx_config import render_gateway_config
from cp_tools.peers import Callers, callers_by_service, module_of

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOG_PATH = REPO_ROOT / "deploy" / "services.yaml"
CHART_DIR = REPO_ROOT / "helm" / "cryptopredict"
VALUES_PATH = CHART_DIR / "values.yaml"
NGINX_PATH = CHART_DIR / "files" / "nginx.conf"
SKAFFOLD_PATH = REPO_ROOT / "skaffold.yaml"
#: The alert rules' source (deploy/) and the chart's copy (a PrometheusRule's spec).
ALERTS_PATH = REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml"
CHART_ALERTS_PATH = CHART_DIR / "files" / "alerts.yaml"

BEGIN_MARKER = "# BEGIN generated services (python -m cp_tools.chart; do not edit by hand)"
END_MARKER = "# END generated services"
#: Placeholder for the release's full name in the gateway config (the chart replaces it).
FULLNAME_PLACEHOLDER = "__FULLNAME__"
#: The access log inside the gateway container (a writable emptyDir; stdout is ``/dev/stdout``).
GATEWAY_ACCESS_LOG = Path("/dev/stdout")
IMAGE_PREFIX = "cryptopredict-"
CHART = "helm/cryptopredict"
TRAINING_IMAGE = "cryptopredict-training"
_UPSTREAM = re.compile(r"^(\s*)server 127\.0\.0\.1:([0-9]+);$", re.MULTILINE)


@dataclass(frozen=True)
class Generated:
    path: Path
    text: str


def package_dir(service: ServiceEntry, repo_root: Path = REPO_ROOT) -> Path | None:
    found = sorted(repo_root.glob(f"services/*/{module_of(service)}"))
    return found[0] if found else None


def service_dir(service: ServiceEntry, repo_root: Path = REPO_ROOT) -> str:
    """The service's directory under ``services/`` (``layer1_macro``), the image's build argument."""
    directory = package_dir(service, repo_root)
    if directory is None:
        raise ValueError(f"service {service.name!r}: no package services/*/{module_of(service)}")
    return directory.parent.name


def has_migrations(service: ServiceEntry, repo_root: Path = REPO_ROOT) -> bool:
    directory = package_dir(service, repo_root)
    return directory is not None and (directory.parent / "migrations").is_dir()


#: Imports that bring in the model code (torch): a service using them gets the ``ml`` image.
ML_IMPORTS = ("cp_models", "cp_layer_kit")
#: Parts of ``cp_models`` that load no torch (numpy/pandas only); a test keeps this true.
TORCH_FREE_MODULES = ("cp_models.features",)
_IMPORT = re.compile(r"^\s*(?:from|import) ((?:cp_models|cp_layer_kit)[a-zA-Z0-9_.]*)", re.MULTILINE)


def _needs_torch(imported: str) -> bool:
    return not any(imported == free or imported.startswith(free + ".") for free in TORCH_FREE_MODULES)


def image_target(service: ServiceEntry, repo_root: Path = REPO_ROOT) -> str:
    """``ml`` (with torch) when the service's package imports the model code, else ``core``."""
    directory = package_dir(service, repo_root)
    if directory is None:
        return "core"
    for source in directory.rglob("*.py"):
        if "tests" in source.parts:
            continue
        if any(_needs_torch(name) for name in _IMPORT.findall(source.read_text())):
            return "ml"
    return "core"


def _k8s_env(value: str) -> str:
    """``${AUTH_HTTP_URL}`` -> ``$(AUTH_HTTP_URL)``: Kubernetes expands it from earlier variables."""
    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)\}", r"$(\1)", value)


def service_values(service: ServiceEntry, callers: Callers, repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "module": module_of(service),
        "image": {"repository": IMAGE_PREFIX + service.name, "target": image_target(service, repo_root)},
        "httpPort": service.http_port,
        "envPrefix": service.env_prefix,
        "public": bool(service.public_prefixes or service.websocket_prefixes),
        "callers": {"http": list(callers.http), "grpc": list(callers.grpc)},
        "infrastructure": [dep for dep in service.depends_on if dep in INFRASTRUCTURE_NAMES],
        "migrations": has_migrations(service, repo_root),
        "catalogEnv": {key: _k8s_env(value) for key, value in sorted(service.env.items())},
    }
    if service.grpc_port is not None:
        entry["grpcPort"] = service.grpc_port
    return entry


def render_services_block(catalog: Catalog, repo_root: Path = REPO_ROOT) -> str:
    callers = callers_by_service(catalog)
    services = {s.name: service_values(s, callers[s.name], repo_root) for s in catalog.services}
    data = {"catalogServices": services}
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=110)
    return f"{BEGIN_MARKER}\n{body}{END_MARKER}\n"


def render_values(current: str, catalog: Catalog, repo_root: Path = REPO_ROOT) -> str:
    start, end = current.find(BEGIN_MARKER), current.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"values.yaml lacks the markers {BEGIN_MARKER!r} ... {END_MARKER!r}")
    tail = current[end + len(END_MARKER) :].lstrip("\n")
    return current[:start] + render_services_block(catalog, repo_root) + tail


def render_k8s_gateway(catalog: Catalog) -> str:
    """The local gateway's config with every upstream at ``<fullname>-<service>:<port>``."""
    text = render_gateway_config(catalog, access_log=GATEWAY_ACCESS_LOG, listen_host="0.0.0.0")
    hosts = {service.http_port: service.name for service in catalog.services}

    def to_service(match: re.Match[str]) -> str:
        name = hosts[int(match.group(2))]
        return f"{match.group(1)}server {FULLNAME_PLACEHOLDER}-{name}:{match.group(2)};"

    text, count = _UPSTREAM.subn(to_service, text)
    if count < len(catalog.services) or "127.0.0.1" in text:
        raise ValueError(
            f"the gateway config has upstreams this renderer does not rewrite ({count} rewritten)"
        )
    return text.replace("pid nginx.pid;", "pid /tmp/nginx.pid;").replace("_temp_path ", "_temp_path /tmp/")


def render_skaffold(catalog: Catalog, repo_root: Path = REPO_ROOT) -> str:
    modules = [_skaffold_module(service, repo_root) for service in catalog.services]
    artifacts = [_service_artifact(s, repo_root) for s in catalog.services]
    artifacts.append(_artifact(TRAINING_IMAGE, "ml", ""))
    set_values: dict[str, str] = {}
    for name in [s.name for s in catalog.services]:
        set_values |= _image_values(f"services.{name}.image", IMAGE_PREFIX + name)
    set_values |= _image_values("training.image", TRAINING_IMAGE)
    main = {
        "apiVersion": "skaffold/v4beta11",
        "kind": "Config",
        "metadata": {"name": "cryptopredict"},
        "build": {"tagPolicy": {"gitCommit": {"variant": "AbbrevCommitSha"}}, "artifacts": artifacts},
        "manifests": {"helm": {"releases": [_release(set_values)]}},
        "deploy": {"helm": {}},
        "profiles": _profiles(),
    }
    header = (
        "# Generated from deploy/services.yaml by `python -m cp_tools.chart`; do not edit by hand.\n"
        "# `skaffold dev -p dev` (whole fleet), `skaffold dev -m <service>` (one service alone).\n"
    )
    documents = [main, *modules]
    return header + "---\n".join(yaml.safe_dump(doc, sort_keys=False, width=110) for doc in documents)


def _skaffold_key(image: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", image)


def _image_values(path: str, image: str) -> dict[str, str]:
    """skaffold fills in the built image's repository and git-commit tag for ``path``."""
    key = _skaffold_key(image)
    return {f"{path}.repository": f"{{{{.IMAGE_REPO_{key}}}}}", f"{path}.tag": f"{{{{.IMAGE_TAG_{key}}}}}"}


def _artifact(image: str, target: str, directory: str) -> dict[str, Any]:
    docker = {"dockerfile": "Dockerfile", "target": target, "buildArgs": {"SERVICE_DIR": directory}}
    return {"image": image, "context": ".", "docker": docker}


def _service_artifact(service: ServiceEntry, repo_root: Path) -> dict[str, Any]:
    target = image_target(service, repo_root)
    return _artifact(IMAGE_PREFIX + service.name, target, service_dir(service, repo_root))


def _release(set_value_templates: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "cryptopredict",
        "chartPath": "helm/cryptopredict",
        "valuesFiles": ["helm/cryptopredict/values.yaml"],
        "setValueTemplates": set_value_templates,
    }


def _profiles() -> list[dict[str, Any]]:
    chart = "helm/cryptopredict"
    return [
        {
            "name": name,
            "patches": [
                {
                    "op": "replace",
                    "path": "/manifests/helm/releases/0/valuesFiles",
                    "value": [f"{chart}/values.yaml", f"{chart}/values-{name}.yaml"],
                }
            ],
        }
        for name in ("dev", "prod", "minimal")
    ]


def _skaffold_module(service: ServiceEntry, repo_root: Path) -> dict[str, Any]:
    image = IMAGE_PREFIX + service.name
    return {
        "apiVersion": "skaffold/v4beta11",
        "kind": "Config",
        "metadata": {"name": service.name},
        "build": {
            "tagPolicy": {"gitCommit": {"variant": "AbbrevCommitSha"}},
            "artifacts": [_service_artifact(service, repo_root)],
        },
        "manifests": {
            "helm": {
                "releases": [
                    {
                        "name": "cryptopredict",
                        "chartPath": "helm/cryptopredict",
                        "valuesFiles": [f"{CHART}/values.yaml", f"{CHART}/values-dev.yaml"],
                        "setValueTemplates": _image_values(f"services.{service.name}.image", image),
                    }
                ]
            }
        },
        "deploy": {"helm": {}},
    }


def generate(catalog_path: Path = CATALOG_PATH, repo_root: Path = REPO_ROOT) -> list[Generated]:
    catalog = load_catalog(catalog_path)
    values_path = repo_root / VALUES_PATH.relative_to(REPO_ROOT)
    return [
        Generated(values_path, render_values(values_path.read_text(), catalog, repo_root)),
        Generated(repo_root / NGINX_PATH.relative_to(REPO_ROOT), render_k8s_gateway(catalog)),
        Generated(repo_root / SKAFFOLD_PATH.relative_to(REPO_ROOT), render_skaffold(catalog, repo_root)),
        Generated(
            repo_root / CHART_ALERTS_PATH.relative_to(REPO_ROOT),
            (repo_root / ALERTS_PATH.relative_to(REPO_ROOT)).read_text(),
        ),
    ]


def stale(files: Sequence[Generated]) -> list[Path]:
    return [f.path for f in files if not f.path.is_file() or f.path.read_text() != f.text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cp_tools.chart", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    files = generate()
    drifted = stale(files)
    if args.check:
        for path in drifted:
            print(f"stale: {path.relative_to(REPO_ROOT)} (run python -m cp_tools.chart)", file=sys.stderr)
        return 1 if drifted else 0
    for item in files:
        if item.path in drifted:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.path.write_text(item.text)
            print(f"wrote {item.path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
