"""What the routes, the gRPC servicer and the consumer share, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

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


def build_components(settings: TimingSettings, pool: asyncpg.Pool) -> TimingComponents:
    tracker = Tracker(
        costs_of(settings),
        evidence_window=settings.layer4_evidence_window,
        evidence_min_weight=settings.layer4_evidence_min_weight,
    )
    return TimingComponents(settings=settings, pool=pool, tracker=tracker)
