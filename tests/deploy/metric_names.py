"""Metric names the code defines, and the metric names a PromQL query reads."""

from __future__ import annotations

import functools
import re

from .rendering import REPO_ROOT

_DEFINITION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|GaugeMetricFamily)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
)
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
#: Series Prometheus itself adds to every scrape.
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
_PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
}


@functools.cache
def exported_metric_names() -> frozenset[str]:
    """Every metric name defined with prometheus-client in libs/ and services/ (not tests)."""
    names: set[str] = set(SCRAPE_SERIES)
    for root in ("libs", "services"):
        for source in (REPO_ROOT / root).rglob("*.py"):
            if "tests" in source.parts:
                continue
            for kind, name in _DEFINITION.findall(source.read_text()):
                names.add(name)
                if kind in ("Histogram", "Summary"):
                    names.update(name + suffix for suffix in _HISTOGRAM_SUFFIXES)
    return frozenset(names)


def query_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (functions, label matchers, durations left out)."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        token = match.group(0)
        following = text[match.end() :].lstrip()
        if following.startswith("(") or token in _PROMQL_WORDS:
            continue
        names.add(token)
    return names
