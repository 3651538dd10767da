"""Technical voters and the accuracy-weighted consensus for L4 (GoldenSignals design).

Each voter reads point-in-time indicators and votes ``+1`` (long), ``-1`` (short) or ``0``
(hold). The rules are trend-following (daily crypto trends persist more than they revert):

* ``rsi``: RSI14 > 55 long, < 45 short, otherwise hold.
* ``macd``: MACD histogram > 0 long, < 0 short.
* ``bollinger``: %B(20, 2) > 0.6 long, < 0.4 short, otherwise hold.
* ``volume``: with rising volume (7d mean above 30d mean) vote the sign of the 7-day return.
* ``momentum``: the sign of the 30-day return when the 7-day return agrees, otherwise hold.
* ``model``: the L4 sequence model's most likely class (hold for ``no_trade``).

A voter's weight is ``max(0.1, accuracy)`` where accuracy is the share of its directional
votes in the training window that matched the triple-barrier outcome. The agreement for a
direction is the weight voting for it divided by the total weight of all voters (holds
included), so a signal needs 2/3 of the weight behind it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.labels import LONG, SHORT

TECHNICAL_VOTERS: tuple[str, ...] = ("rsi", "macd", "bollinger", "volume", "momentum")
ALL_VOTERS: tuple[str, ...] = (*TECHNICAL_VOTERS, "model")
VOTER_INPUTS = ["rsi_14", "macd_hist_pct", "bb_pctb_20", "volume_trend_7_30", "mom_7d", "mom_30d"]
MIN_WEIGHT = 0.1


def _sign_vote(cond_long: pd.Series, cond_short: pd.Series) -> pd.Series:
    return pd.Series(np.where(cond_long, 1, np.where(cond_short, -1, 0)), index=cond_long.index, dtype="int8")


def technical_votes(rows: pd.DataFrame) -> pd.DataFrame:
    """Votes of every technical voter for each row (rows carry ``VOTER_INPUTS``)."""
    r = rows
    out = pd.DataFrame(index=r.index)
    out["rsi"] = _sign_vote(r["rsi_14"] > 55, r["rsi_14"] < 45)
    out["macd"] = _sign_vote(r["macd_hist_pct"] > 0, r["macd_hist_pct"] < 0)
    out["bollinger"] = _sign_vote(r["bb_pctb_20"] > 0.6, r["bb_pctb_20"] < 0.4)
    rising = r["volume_trend_7_30"] > 0
    out["volume"] = _sign_vote(rising & (r["mom_7d"] > 0), rising & (r["mom_7d"] < 0))
    out["momentum"] = _sign_vote(
        (r["mom_30d"] > 0) & (r["mom_7d"] > 0), (r["mom_30d"] < 0) & (r["mom_7d"] < 0)
    )
    return out


def model_votes(probs: np.ndarray) -> np.ndarray:
    """+1 / -1 / 0 from the argmax of (long, short, no_trade) probabilities."""
    arg = np.argmax(probs, axis=1)
    return np.where(arg == LONG, 1, np.where(arg == SHORT, -1, 0)).astype("int8")


def voter_accuracy(votes: pd.Series | np.ndarray, labels: pd.Series | np.ndarray) -> tuple[float, int]:
    """(share of directional votes matching the label, number of directional votes)."""
    v = np.asarray(votes)
    y = np.asarray(labels, dtype="float64")
    ok = (v != 0) & np.isfinite(y)
    if not ok.any():
        return 0.0, 0
    hit = ((v[ok] == 1) & (y[ok] == LONG)) | ((v[ok] == -1) & (y[ok] == SHORT))
    return float(hit.mean()), int(ok.sum())


def weights_from_accuracy(acc: dict[str, float]) -> dict[str, float]:
    return {k: max(MIN_WEIGHT, float(a)) for k, a in acc.items()}


def agreement(votes: pd.DataFrame, weights: dict[str, float]) -> tuple[pd.Series, pd.Series]:
    """(long agreement, short agreement) per row: weight voting that way / total weight."""
    w = pd.Series({k: weights.get(k, MIN_WEIGHT) for k in votes.columns})
    total = float(w.sum())
    long_w = (votes.eq(1).astype("float64") * w).sum(axis=1) / total
    short_w = (votes.eq(-1).astype("float64") * w).sum(axis=1) / total
    return long_w, short_w
