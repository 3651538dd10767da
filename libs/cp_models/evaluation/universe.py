"""Why each coin's data end: still trading, the source file ends, or delisted.

Several coins whose data stop on the same day are a source truncation (a file set that
ends), not a market event; a coin that stops alone is treated as delisted. The sensitivity
run keeps only the coins still trading at the end of the window.
"""

from __future__ import annotations

import pandas as pd

from cp_models.data import MarketData

SAME_DAY_TRUNCATION = 3  # this many coins ending on one day = the source ends
END_TOLERANCE_DAYS = 3


def data_end_reasons(data: MarketData, end: pd.Timestamp) -> dict[str, dict[str, str]]:
    last = {s: data.close[s].last_valid_index() for s in data.tradable}
    ended = {
        s: t for s, t in last.items() if t is not None and t < end - pd.Timedelta(days=END_TOLERANCE_DAYS)
    }
    per_day = pd.Series(list(ended.values()), dtype="datetime64[ns, UTC]").value_counts()
    out: dict[str, dict[str, str]] = {}
    for s, t in last.items():
        if t is None:
            continue
        if s not in ended:
            reason = "trading at the end"
        elif int(per_day.get(t, 0)) >= SAME_DAY_TRUNCATION:
            reason = "source ends"
        else:
            reason = "delisted"
        out[s] = {"last_day": str(t.date()), "reason": reason}
    return out
