"""Configuration of the L4 timing service: the shared settings plus ``LAYER4_*`` variables.

Fields are named ``layer4_*`` (read from ``LAYER4_*``) rather than set through an
``env_prefix``, which would also rename the inherited fields (``DATABASE_URL``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cp_layer_kit.settings import LayerSettings


class TimingSettings(LayerSettings):
    service_name: str = "layer4-timing"

    # --- outcomes -----------------------------------------------------------------------------
    #: Costs every realised return is net of, per side (the backtest's defaults).
    layer4_fee: float = Field(default=0.001, ge=0, le=0.05)
    layer4_slippage: float = Field(default=0.0005, ge=0, le=0.05)
    #: "wall" (system clock) or "market" (close of the newest daily bar; for replayed history):
    #: the clock expiry checks and the performance window use.
    layer4_clock: Literal["wall", "market"] = "wall"

    # --- public listing -----------------------------------------------------------------------
    #: Default ``confidence_min`` of ``GET /signals``. 0: every stored signal already passed the
    #: trading gate the model chose on its training folds, and its calibrated P(win) rarely
    #: reaches the seed's 0.7 (ask ``confidence_min=0.7`` for the seed's display filter).
    layer4_default_confidence_min: float = Field(default=0.0, ge=0, le=1)

    # --- paper trading: defaults of each user's risk settings ------------------------------------
    layer4_default_paper_equity: float = Field(default=10_000.0, gt=0)
    #: Largest position as a fraction of paper equity.
    layer4_default_max_position_size: float = Field(default=0.10, gt=0, le=1)
    layer4_default_max_open_positions: int = Field(default=10, ge=1, le=1000)
    #: Largest loss at the stop as a fraction of paper equity (size x stop distance / entry).
    layer4_default_max_risk_per_trade: float = Field(default=0.02, gt=0, le=1)

    # --- evidence accuracy ----------------------------------------------------------------------
    #: Closed signals per voter in the rolling accuracy window (GoldenSignals: the last 100).
    layer4_evidence_window: int = Field(default=100, ge=1)
    #: Floor of a voter's weight (GoldenSignals: max(0.1, accuracy)).
    layer4_evidence_min_weight: float = Field(default=0.1, ge=0, le=1)
