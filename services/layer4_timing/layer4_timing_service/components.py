"""What the routes, the gRPC servicer and the consumer share, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from cp_common.http.read_cache import PreserialisedCache
from cp_common.service import Runtime
from cp_models.backtest.costs import CostModel
from layer4_timing_service.lifecycle import Tracker
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage.paper import RiskSettings

COMPONENTS_KEY = "layer4"


@dataclass
class TimingComponents:
    settings: TimingSettings
    pool: asyncpg.Pool
    tracker: Tracker
    #: Pre-serialised listings (``GET /signals``); the kit's, so storing a run drops them too.
    reads: PreserialisedCache = field(default_factory=PreserialisedCache)

    @property
    def risk_defaults(self) -> RiskSettings:
        s = self.settings
        return RiskSettings(
            paper_equity=s.layer4_default_paper_equity,
            max_position_size=s.layer4_default_max_position_size,
            max_open_positions=s.layer4_default_max_open_positions,
            max_risk_per_trade=s.layer4_default_max_risk_per_trade,
        )


def components_of(runtime: Runtime) -> TimingComponents:
    parts = runtime.extras.get(COMPONENTS_KEY)
    if not isinstance(parts, TimingComponents):
        raise RuntimeError("the L4 components are not started")
    return parts


def costs_of(settings: TimingSettings) -> CostModel:
    return CostModel(fee=settings.layer4_fee, slippage=settings.layer4_slippage)


def build_components(
    settings: TimingSettings, pool: asyncpg.Pool, reads: PreserialisedCache | None = None
) -> TimingComponents:
    tracker = Tracker(
        costs_of(settings),
        evidence_window=settings.layer4_evidence_window,
        evidence_min_weight=settings.layer4_evidence_min_weight,
    )
    reads = reads or PreserialisedCache(ttl_s=settings.layer_read_cache_s)
    # the tracker changes signals inside the consumer's transaction: the listings are dropped
    # just before its commit, so an answer read in between lives at most the cache's TTL
    tracker.on_change.append(reads.invalidate)
    return TimingComponents(settings=settings, pool=pool, tracker=tracker, reads=reads)
