"""Request bodies (bounded, ``extra="forbid"``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExecuteIn(BaseModel):
    """A paper order on a signal. ``size`` is the fraction of paper equity (default: the
    signal's suggested position size)."""

    model_config = ConfigDict(extra="forbid")

    size: float | None = Field(default=None, gt=0, le=1)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    useful: bool | None = None
    comment: str = Field(default="", max_length=1000)


class RiskSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paper_equity: float = Field(gt=0, le=1e12)
    max_position_size: float = Field(gt=0, le=1)
    max_open_positions: int = Field(ge=1, le=1000)
    max_risk_per_trade: float = Field(gt=0, le=1)
