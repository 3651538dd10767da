"""Grafana dashboards: generated from code, stable UIDs, a datasource variable, valid queries."""

from __future__ import annotations

import json
import re

from cp_tools import dashboards

from .metric_names import exported_metric_names, query_metric_names

REQUIRED = {"cp-fleet-overview", "cp-cascade", "cp-kafka", "cp-signals", "cp-ingestion", "cp-websockets"}


def test_committed_dashboards_are_what_the_code_generates() -> None:
    for path, text in dashboards.expected_files().items():
        assert path.is_file() and path.read_text() == text, (
            f"stale {path.name}: run python -m cp_tools.dashboards"
        )


def test_dashboards_have_stable_uids_and_a_datasource_variable() -> None:
    assert {board.uid for board in dashboards.BOARDS} == REQUIRED
    for path, text in dashboards.expected_files().items():
        data = json.loads(text)
        assert data["uid"] == path.stem
        variables = {v["name"]: v for v in data["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        for panel in data["panels"]:
            assert panel["datasource"] == "${datasource}"
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_every_queried_metric_is_defined_in_the_code() -> None:
    defined = exported_metric_names()
    for board, panel, query in dashboards.queries():
        unknown = query_metric_names(query.expr) - defined
        assert not unknown, f"{board.uid} / {panel.title}: {sorted(unknown)}"


def test_the_metric_name_check_can_fail() -> None:
    assert query_metric_names('sum(rate(not_a_metric_total{x="y"}[5m]))') - exported_metric_names() == {
        "not_a_metric_total"
    }
    assert re.match(r"^cp-", dashboards.FLEET.uid)
