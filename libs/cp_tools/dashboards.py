"""Grafana dashboards as code (grafanalib), written to ``deploy/grafana/*.json``.

``python -m cp_tools.dashboards`` regenerates them (and the chart's copies); ``--check`` exits 1
when a committed file differs from what the code produces. Each dashboard has a stable ``uid`` and
a ``datasource`` variable; every query uses a metric the services export (``job`` is the service:
the catalog name locally and in Kubernetes alike). Panels marked ``core`` must return data from a
running fleet (the Prometheus scrape test checks that).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIRS = (
    REPO_ROOT / "deploy" / "grafana",
    REPO_ROOT / "helm" / "cryptopredict" / "files" / "dashboards",
)
DATASOURCE = "${datasource}"
PANEL_WIDTH = 12
PANEL_HEIGHT = 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    #: A core panel returns data from any running fleet (checked against a real Prometheus).
    core: bool = False


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]


def _p(title: str, expr: str, legend: str = "", *, unit: str = "short", core: bool = False) -> Panel:
    return Panel(title, (Query(expr, legend),), unit, core)


def _quantile(q: float, metric: str, by: str) -> str:
    """``metric`` may carry a selector: ``name{layer="timing"}`` -> ``name_bucket{layer="timing"}``."""
    name, brace, selector = metric.partition("{")
    groups = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({groups}) (rate({name}_bucket{brace}{selector}[5m])))"


def _p95(metric: str, by: str) -> str:
    return _quantile(0.95, metric, by)


FLEET = Board(
    "cp-fleet-overview",
    "CryptoPredict / Fleet overview",
    "RED per service: request rate, error ratio and latency of every service's HTTP and gRPC APIs.",
    (
        _p("Up", "up", "{{job}} {{instance}}", core=True),
        _p(
            "HTTP requests/s by service",
            "sum by (job) (rate(http_requests_total[5m]))",
            "{{job}}",
            unit="reqps",
            core=True,
        ),
        _p(
            "HTTP 5xx ratio by service",
            '(sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))'
            " or sum by (job) (rate(http_requests_total[5m])) * 0)"
            " / sum by (job) (rate(http_requests_total[5m]))",
            "{{job}}",
            unit="percentunit",
            core=True,
        ),
        Panel(
            "HTTP latency by service",
            (
                Query(_p95("http_request_duration_seconds", "job"), "p95 {{job}}"),
                Query(_quantile(0.99, "http_request_duration_seconds", "job"), "p99 {{job}}"),
            ),
            unit="s",
            core=True,
        ),
        _p("HTTP requests in flight", "sum by (job) (http_requests_in_flight)", "{{job}}", core=True),
        _p(
            "gRPC calls/s by code",
            "sum by (job, grpc_code) (rate(grpc_server_handled_total[5m]))",
            "{{job}} {{grpc_code}}",
        ),
        _p("gRPC p95 by service", _p95("grpc_server_handling_seconds", "job"), "{{job}}", unit="s"),
        _p(
            "PostgreSQL pool in use",
            'sum by (job, pool) (db_pool_connections{state="in_use"})',
            "{{job}} {{pool}}",
            core=True,
        ),
    ),
)

CASCADE = Board(
    "cp-cascade",
    "CryptoPredict / Cascade",
    "The four-layer cascade: runs by status, run and layer-step duration, degraded runs, breakers, models.",
    (
        _p(
            "Cascade runs/s by status",
            "sum by (status) (rate(cp_orchestrator_runs_total[5m]))",
            "{{status}}",
            core=True,
        ),
        Panel(
            "Cascade run duration",
            (
                Query(_quantile(0.5, "cp_orchestrator_run_seconds", "status"), "p50 {{status}}"),
                Query(_p95("cp_orchestrator_run_seconds", "status"), "p95 {{status}}"),
            ),
            unit="s",
            core=True,
        ),
        _p(
            "Since the last completed run",
            "time() - max(cp_orchestrator_last_completed_run_timestamp_seconds)",
            "age",
            unit="s",
            core=True,
        ),
        _p(
            "Degraded runs/s by trigger",
            'sum by (trigger) (rate(cp_orchestrator_runs_total{status="degraded"}[5m]))',
            "{{trigger}}",
        ),
        _p(
            "Layer calls/s by outcome",
            "sum by (layer, outcome) (rate(cp_orchestrator_layer_calls_total[5m]))",
            "{{layer}} {{outcome}}",
            core=True,
        ),
        # observed for answered steps (ok, fallback, reused): needs trained models
        _p(
            "Layer step p95 in the cascade",
            _p95("cp_orchestrator_layer_seconds", "layer"),
            "{{layer}}",
            unit="s",
        ),
        _p(
            "Analyses/s by layer and outcome",
            "sum by (layer, outcome) (rate(cp_layer_analyses_total[5m]))",
            "{{layer}} {{outcome}}",
            core=True,
        ),
        # needs a trained model, so not core (the scrape test runs without training)
        _p("Inference p95 by layer", _p95("cp_layer_inference_seconds", "layer"), "{{layer}}", unit="s"),
        _p(
            "Degraded (refused) analyses/s",
            'sum by (layer) (rate(cp_layer_analyses_total{outcome="refused"}[5m]))',
            "{{layer}}",
            core=True,
        ),
        _p(
            "Circuit breaker state (0 closed, 1 half-open, 2 open)",
            "max by (job, breaker) (circuit_breaker_state)",
            "{{job}} {{breaker}}",
        ),
        _p(
            "Model status",
            "max by (layer, model, status) (cp_layer_model_status) > 0",
            "{{layer}} {{model}} {{status}}",
            core=True,
        ),
        _p(
            "Model version in memory",
            "max by (layer, model) (cp_layer_model_version)",
            "{{layer}} {{model}}",
            core=True,
        ),
        _p(
            "Read model age",
            "time() - max by (layer) (cp_layer_read_model_last_day_timestamp_seconds)",
            "{{layer}}",
            unit="s",
            core=True,
        ),
        _p(
            "Read model rebuild p95",
            _p95("cp_layer_read_model_rebuild_seconds", "layer"),
            "{{layer}}",
            unit="s",
        ),
    ),
)

KAFKA = Board(
    "cp-kafka",
    "CryptoPredict / Kafka",
    "Consumer lag by group, consumption by outcome, dead-letter rate, producers and the outbox.",
    (
        _p(
            "Consumer lag by group",
            "sum by (group, topic) (kafka_consumer_lag_messages)",
            "{{group}} {{topic}}",
            core=True,
        ),
        _p(
            "Consumed/s by outcome",
            "sum by (group, outcome) (rate(kafka_consumer_messages_total[5m]))",
            "{{group}} {{outcome}}",
            core=True,
        ),
        _p(
            "Dead-lettered/s",
            'sum by (group, topic) (rate(kafka_consumer_messages_total{outcome="dead_lettered"}[5m]))',
            "{{group}} {{topic}}",
        ),
        _p(
            "Handling p95 by group",
            _p95("kafka_consumer_handling_seconds", "group"),
            "{{group}}",
            unit="s",
            core=True,
        ),
        _p(
            "Produced/s by topic",
            "sum by (topic, outcome) (rate(kafka_producer_messages_total[5m]))",
            "{{topic}} {{outcome}}",
        ),
        _p("Outbox pending", "sum by (schema) (outbox_pending_events)", "{{schema}}", core=True),
        _p("Outbox relayed/s", "sum by (schema) (rate(outbox_relayed_events_total[5m]))", "{{schema}}"),
    ),
)

SIGNALS = Board(
    "cp-signals",
    "CryptoPredict / Signals",
    "Trading signals of the L4 timing layer: generated, closed by outcome, win rate, paper executions.",
    (
        _p(
            "Signals generated/h by type",
            "sum by (signal_type) (increase(layer4_signals_generated_total[1h]))",
            "{{signal_type}}",
        ),
        _p(
            "Signals closed/h by outcome",
            "sum by (status) (increase(layer4_signals_closed_total[1h]))",
            "{{status}}",
        ),
        _p(
            "Win rate (24h)",
            'sum(increase(layer4_signals_closed_total{status="target_hit"}[24h]))'
            ' / sum(increase(layer4_signals_closed_total{status=~"target_hit|stopped_out"}[24h]))',
            "win rate",
            unit="percentunit",
        ),
        _p(
            "Paper executions/h by outcome",
            "sum by (outcome) (increase(layer4_paper_executions_total[1h]))",
            "{{outcome}}",
        ),
        _p(
            "L4 inference p95",
            _p95('cp_layer_inference_seconds{layer="timing"}', "layer"),
            "{{layer}}",
            unit="s",
        ),
    ),
)

INGESTION = Board(
    "cp-ingestion",
    "CryptoPredict / Ingestion",
    "Market data: candles stored per second, rejections by reason, feed errors, freshness.",
    (
        _p(
            "Candles stored/s",
            "sum by (interval, outcome) (rate(ingestion_candles_stored_total[5m]))",
            "{{interval}} {{outcome}}",
            core=True,
        ),
        _p(
            "Rejected candles/s by reason",
            "sum by (reason) (rate(ingestion_rejected_candles_total[5m]))",
            "{{reason}}",
            core=True,
        ),
        _p("Feed errors/s", "sum by (feed) (rate(ingestion_feed_errors_total[5m]))", "{{feed}}"),
        _p("Batch store p95", _p95("ingestion_batch_store_seconds", "mode"), "{{mode}}", unit="s", core=True),
        _p(
            "Newest candle close (feed clock)",
            "max by (interval) (ingestion_last_candle_close_timestamp_seconds) * 1000",
            "{{interval}}",
            unit="dateTimeAsIso",
            core=True,
        ),
        _p(
            "Snapshots stored/s",
            "sum by (outcome) (rate(ingestion_snapshots_stored_total[5m]))",
            "{{outcome}}",
        ),
        _p(
            "Events enqueued/s",
            "sum by (topic) (rate(ingestion_events_enqueued_total[5m]))",
            "{{topic}}",
            core=True,
        ),
        _p(
            "Live poller leader",
            "max by (instance) (ingestion_live_poller_leader)",
            "{{instance}}",
            core=True,
        ),
    ),
)

WEBSOCKETS = Board(
    "cp-websockets",
    "CryptoPredict / WebSockets",
    "The notification service's WebSocket streams and webhooks.",
    (
        _p("Open connections by stream", "sum by (stream) (notification_ws_connections)", "{{stream}}"),
        _p(
            "Messages sent/s by stream",
            "sum by (stream) (rate(notification_ws_messages_sent_total[5m]))",
            "{{stream}}",
        ),
        _p(
            "Server-closed connections/s by reason",
            "sum by (reason) (rate(notification_ws_closed_total[5m]))",
            "{{reason}}",
        ),
        _p("Replayed entries/s", "sum(rate(notification_ws_replayed_total[5m]))", "replayed", core=True),
        _p(
            "Webhook attempts/s by outcome",
            "sum by (outcome) (rate(notification_webhook_attempts_total[5m]))",
            "{{outcome}}",
        ),
        _p(
            "Webhook p95",
            _p95("notification_webhook_attempt_duration_seconds", ""),
            "p95",
            unit="s",
        ),
    ),
)

BOARDS = (FLEET, CASCADE, KAFKA, SIGNALS, INGESTION, WEBSOCKETS)


def _panel(panel: Panel, index: int) -> g.TimeSeries:
    refs = "ABCDEFGH"
    return g.TimeSeries(
        title=panel.title,
        dataSource=DATASOURCE,
        targets=[
            g.Target(expr=q.expr, legendFormat=q.legend, refId=refs[i], datasource=DATASOURCE)
            for i, q in enumerate(panel.queries)
        ],
        unit=panel.unit,
        gridPos=g.GridPos(
            h=PANEL_HEIGHT, w=PANEL_WIDTH, x=(index % 2) * PANEL_WIDTH, y=(index // 2) * PANEL_HEIGHT
        ),
    )


def build(board: Board) -> g.Dashboard:
    datasource = g.Template(
        name="datasource", label="Data source", query="prometheus", type="datasource", default=""
    )
    return g.Dashboard(
        title=board.title,
        uid=board.uid,
        description=board.description,
        tags=["cryptopredict"],
        timezone="utc",
        refresh="30s",
        templating=g.Templating(list=[datasource]),
        panels=[_panel(panel, i) for i, panel in enumerate(board.panels)],
    ).auto_panel_ids()


def render(board: Board) -> str:
    return json.dumps(build(board).to_json_data(), cls=DashboardEncoder, indent=2, sort_keys=True) + "\n"


def queries(boards: Sequence[Board] = BOARDS) -> list[tuple[Board, Panel, Query]]:
    return [(board, panel, query) for board in boards for panel in board.panels for query in panel.queries]


def expected_files() -> dict[Path, str]:
    return {directory / f"{board.uid}.json": render(board) for directory in OUTPUT_DIRS for board in BOARDS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cp_tools.dashboards", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a dashboard file is stale")
    args = parser.parse_args(argv)
    stale = [p for p, text in expected_files().items() if not p.is_file() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(
                f"stale: {path.relative_to(REPO_ROOT)} (run python -m cp_tools.dashboards)", file=sys.stderr
            )
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected_files()[path])
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
