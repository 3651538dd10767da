"""A real Prometheus scrapes a running local fleet (every catalog service, shifted ports).

The fleet is left as ``make up`` leaves it: models trained on the simulator's history and
active; one Layer 1 call before that (refused) and one whole cascade after it give the cascade
panels their series. Checks, against what the services really export: every metric a dashboard
panel or an alert rule queries is exported by some service (its ``# TYPE`` line is on a ``/metrics`` page), and every
core panel's query returns data once the fleet has served some traffic. One fleet and one
Prometheus for the module; both are stopped at the end.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml

from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.cascade_fleet import CascadeFleet, train_models, wait_models
from cp_testing.fleets import clean_environ, free_port_offset
from cp_tools import dashboards
from cryptopredict.analysis.v1 import macro_pb2, macro_pb2_grpc
from cryptopredict.events.v1 import cascade_pb2
from cryptopredict.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from .metric_names import SCRAPE_SERIES, query_metric_names
from .rendering import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SCRAPE_INTERVAL_S = 1
READY_TIMEOUT_S = 300
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _patient(catalog: Catalog) -> Catalog:
    """The catalog with longer readiness waits: the whole fleet starts at once on a shared machine."""
    data = catalog.model_dump(mode="json")
    for service in data["services"]:
        service["ready_timeout_s"] = max(service["ready_timeout_s"], READY_TIMEOUT_S)
    return Catalog.model_validate(data)


@dataclass
class Scraped:
    fleet: Fleet
    prometheus_url: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def exposition(self) -> str:
        pages = [
            httpx.get(f"http://127.0.0.1:{s.http_port}/metrics", timeout=10).text
            for s in self.fleet.catalog.services
        ]
        return "\n".join(pages)


def _prometheus_config(catalog: Catalog) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
            "evaluation_interval": f"{SCRAPE_INTERVAL_S}s",
        },
        "rule_files": [str(REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml")],
        "scrape_configs": [
            {"job_name": s.name, "static_configs": [{"targets": [f"127.0.0.1:{s.http_port}"]}]}
            for s in catalog.services
        ],
    }


def _start_prometheus(catalog: Catalog, state_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: `make prometheus` installs Debian's package")
    config = state_dir / "prometheus.yml"
    config.write_text(yaml.safe_dump(_prometheus_config(catalog)))
    port = _free_port()
    log = (state_dir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={state_dir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def _traffic(fleet: Fleet) -> None:
    """Requests through the gateway and to every service, so the request metrics have series."""
    with httpx.Client(base_url=fleet.gateway_url, timeout=30) as client:
        for _ in range(3):
            client.get("/api/v1/health")
            client.get("/api/v1/market/candles/BTC", params={"interval": "1h", "limit": 5})
            client.get("/api/v1/market/candles/NOPE", params={"interval": "1h", "limit": 5})
    for service in fleet.catalog.services:
        httpx.get(f"http://127.0.0.1:{service.http_port}/readyz", timeout=10)


def _run_macro_untrained(fleet: Fleet) -> None:
    """One L1 analysis before the models are trained: the layer refuses it, so the analyses
    counter has its ``refused`` series (the "degraded analyses" panel)."""
    macro = fleet.catalog.service("layer1-macro")
    with grpc.insecure_channel(f"127.0.0.1:{macro.grpc_port}") as channel:
        stub = macro_pb2_grpc.MacroAnalysisServiceStub(channel)
        request = macro_pb2.AnalyzeMacroRequest(cascade_run_id=f"scrape-{time.time_ns()}")
        with pytest.raises(grpc.RpcError) as refused:
            stub.AnalyzeMacro(request, timeout=60)
        assert refused.value.code() != grpc.StatusCode.UNAVAILABLE, refused.value


def _train(fleet: Fleet) -> None:
    """The models as ``make up`` leaves them: trained on the simulator's history and active."""
    running = CascadeFleet(fleet)
    train_models(running)
    asyncio.run(wait_models(running))


def _run_cascade(fleet: Fleet) -> None:
    """One whole cascade through the orchestrator's gRPC API (the models are trained and active),
    so the cascade panels have series: runs, run and layer-step times, inference times."""
    orchestrator = fleet.catalog.service("orchestrator")
    with grpc.insecure_channel(f"127.0.0.1:{orchestrator.grpc_port}") as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        request = orchestrator_pb2.RunCascadeRequest(run_id=f"scrape-{time.time_ns()}")
        answer = stub.RunCascade(request, timeout=300)
    assert answer.run.status == cascade_pb2.CASCADE_RUN_STATUS_SUCCEEDED, answer.run


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def scraped() -> Iterator[Scraped]:
    base = _patient(load_catalog(DEFAULT_CATALOG))
    offset = free_port_offset(base, start=1700, step=211)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-scrape-")).resolve()
    state_dir.chmod(0o755)
    fleet = Fleet(base.shifted(offset), state_dir, environ=clean_environ())
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        fleet.up(log=lambda line: None)
        _run_macro_untrained(fleet)
        _train(fleet)
        _run_cascade(fleet)
        prometheus, url = _start_prometheus(fleet.catalog, state_dir)
        running = Scraped(fleet, url)
        expected = len(fleet.catalog.services)
        _wait(lambda: _ready(url) and len(running.query("up == 1")) == expected, 120, "every target up")
        _traffic(fleet)
        time.sleep(8 * SCRAPE_INTERVAL_S)  # a few scrapes after the traffic, for rate()
        _traffic(fleet)
        time.sleep(4 * SCRAPE_INTERVAL_S)
        yield running
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _declared(exposition: str) -> set[str]:
    return {line.split()[2] for line in exposition.splitlines() if line.startswith("# TYPE ")}


def _base_name(name: str) -> str:
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _queried_metrics() -> dict[str, str]:
    """metric name -> where it is queried (a panel or a rule)."""
    wanted: dict[str, str] = {}
    for board, panel, query in dashboards.queries():
        for name in query_metric_names(query.expr):
            wanted.setdefault(name, f"dashboard {board.uid} / {panel.title}")
    groups = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml").read_text())["groups"]
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    for group in groups:
        for rule in group["rules"]:
            for name in query_metric_names(str(rule["expr"])) - recorded:
                wanted.setdefault(name, f"rule {rule.get('alert') or rule.get('record')}")
    return wanted


def test_every_queried_metric_is_exported_by_the_running_fleet(scraped: Scraped) -> None:
    declared = _declared(scraped.exposition())
    missing = {
        name: where
        for name, where in _queried_metrics().items()
        if name not in SCRAPE_SERIES and name not in declared and _base_name(name) not in declared
    }
    assert not missing, missing


def test_every_core_panel_returns_data(scraped: Scraped) -> None:
    empty = [
        f"{board.uid} / {panel.title}: {query.expr}"
        for board, panel, query in dashboards.queries()
        if panel.core and not scraped.query(query.expr.replace("$__rate_interval", "1m"))
    ]
    assert not empty, "\n".join(empty)


def test_prometheus_loads_the_alert_rules_and_every_service_is_up(scraped: Scraped) -> None:
    rules = httpx.get(f"{scraped.prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {group["name"] for group in rules} >= {
        "cryptopredict-slo",
        "cryptopredict-runtime",
        "cryptopredict-cascade",
    }
    assert all(rule["health"] == "ok" for group in rules for rule in group["rules"]), rules
    up = {r["metric"]["job"] for r in scraped.query("up == 1")}
    assert up == {s.name for s in scraped.fleet.catalog.services}
    # a healthy fleet raises none of the request-level alerts
    firing = {r["metric"]["alertname"] for r in scraped.query('ALERTS{alertstate="firing"}')}
    assert not firing & {"ErrorBudgetBurnFast", "ServiceDown", "CircuitBreakerOpen"}, firing
