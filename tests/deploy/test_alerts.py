"""Alert rules: promtool check rules, and promtool test rules covering every alert."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .metric_names import exported_metric_names, query_metric_names
from .rendering import REPO_ROOT

RULES_DIR = REPO_ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "alerts.yaml"
RULE_TESTS = RULES_DIR / "alerts.test.yaml"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: `make setup` installs Debian's prometheus package")
    return found


def _alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules_passes() -> None:
    result = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, cwd=RULES_DIR
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {str(rule["alert"]) for rule in _alerts()} <= fired


def test_every_alert_has_a_runbook_that_exists() -> None:
    runbooks = (REPO_ROOT / "docs" / "runbooks.md").read_text()
    for rule in _alerts():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        anchor = str(annotations["runbook_url"]).rsplit("#", 1)[1]
        assert f"## {anchor.replace('-', ' ')}" in runbooks.lower(), anchor
        assert annotations["summary"] and annotations["description"]


def test_promtool_catches_a_broken_unit_test(tmp_path: Path) -> None:
    shutil.copy(RULES, tmp_path / "alerts.yaml")
    broken = RULE_TESTS.read_text().replace(
        "exp_labels: {job: auth, severity: critical}", "exp_labels: {job: admin, severity: critical}", 1
    )
    (tmp_path / "alerts.test.yaml").write_text(broken)
    result = subprocess.run(
        [_promtool(), "test", "rules", "alerts.test.yaml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0


def test_every_alert_and_recording_rule_queries_metrics_the_code_exports() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    defined = exported_metric_names() | recorded
    for group in groups:
        for rule in group["rules"]:
            unknown = query_metric_names(str(rule["expr"])) - defined
            assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"
