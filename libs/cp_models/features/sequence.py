"""Per-step candle channels for the L4 sequence model (wide frames, point in time).

Each channel at day ``t`` uses bars ``<= t``; the model reads the last ``L`` days of every
channel ending at the decision day.
"""

from __future__ import annotations

import numpy as np

from cp_models.data import MarketData
from cp_models.features import indicators as ind
from cp_models.features.common import FeatureFrames

SEQUENCE_CHANNELS: dict[str, str] = {
    "seq_ret": "daily log return divided by the 30-day daily volatility",
    "seq_range": "(high - low) / ATR14 of the previous day",
    "seq_body": "(close - open) / ATR14 of the previous day",
    "seq_upper_wick": "(high - max(open, close)) / ATR14 of the previous day",
    "seq_volume_z": "log quote volume z-score against the last 30 days",
    "seq_rsi": "(RSI14 - 50) / 50",
    "seq_pctb": "Bollinger %B(20, 2) - 0.5",
    "seq_ma_dist_20": "close / 20-day average - 1, divided by the 30-day daily volatility",
}

CLIP = 5.0


def compute_sequence_channels(data: MarketData) -> FeatureFrames:
    cols = data.tradable
    o, h, lo, c = (getattr(data, f)[cols] for f in ("open", "high", "low", "close"))
    qv = data.quote_volume[cols]
    r = ind.log_returns(c)
    sd = r.rolling(30, min_periods=30).std()
    sd = sd.where(sd > 1e-9)
    atr_prev = ind.atr(h, lo, c, 14).shift(1)
    atr_prev = atr_prev.where(atr_prev > 0)
    lower, _mid, upper = ind.bollinger(c, 20, 2.0)
    width = (upper - lower).where(upper > lower)
    f: FeatureFrames = {
        "seq_ret": r / sd,
        "seq_range": (h - lo) / atr_prev,
        "seq_body": (c - o) / atr_prev,
        "seq_upper_wick": (h - np.maximum(o, c)) / atr_prev,
        "seq_volume_z": ind.log_volume_z(qv, 30),
        "seq_rsi": (ind.rsi(c, 14) - 50.0) / 50.0,
        "seq_pctb": (c - lower) / width - 0.5,
        "seq_ma_dist_20": (c / ind.sma(c, 20) - 1.0) / sd,
    }
    return {k: v.clip(-CLIP, CLIP).astype("float64") for k, v in f.items()}
