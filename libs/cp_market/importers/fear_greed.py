"""alternative.me Crypto Fear & Greed index, in both public layouts.

* ``Date,value`` - value as a float, no label;
* ``Timestamp,Value,Classification,Date`` - epoch seconds (05:30 UTC each day), integer
  value, label, and ``Date`` as ``M/D/YYYY``. The day is taken from ``Timestamp``.

Values must be within 0-100 (``out_of_range`` otherwise). Missing labels are derived
from the value with alternative.me's bands (``label_for``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.importers._common import (
    csv_columns,
    epoch_to_utc,
    line_numbers,
    numeric_columns,
    pre_reject,
    read_csv,
    read_head,
    text_to_utc,
)
from cp_market.importers._series import validate_daily_series
from cp_market.report import ImportReport, RejectReason

FORMAT = "fear_greed"
SOURCE = "alternative.me"
LABEL_BANDS: tuple[tuple[float, str], ...] = (
    (24, "Extreme Fear"),
    (44, "Fear"),
    (54, "Neutral"),
    (74, "Greed"),
    (100, "Extreme Greed"),
)
"""Upper bound (inclusive) of each band, as observed in the labelled file."""


def label_for(value: float) -> str:
    """alternative.me's classification for an index value (0-100)."""
    for upper, label in LABEL_BANDS:
        if value <= upper:
            return label
    return LABEL_BANDS[-1][1]


def _layout(head: list[str]) -> str | None:
    if not head:
        return None
    cols = csv_columns(head[0])
    if cols == ["timestamp", "value", "classification", "date"]:
        return "labelled"
    if cols == ["date", "value"]:
        return "plain"
    return None


def sniff(path: Path, head: list[str]) -> bool:
    kind = _layout(head)
    return kind == "labelled" or (kind == "plain" and "fear" in path.stem.lower())


def import_file(path: Path | str) -> tuple[pd.DataFrame, ImportReport]:
    """Import one F&G file; returns (frame with date, value, label; report)."""
    path = Path(path)
    kind = _layout(read_head(path, 1))
    if kind is None:
        raise ValueError(f"{path.name}: not a Fear & Greed file")
    df = read_csv(path)
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df))
    if kind == "labelled":
        t = epoch_to_utc(df["timestamp"])
        raw["date"] = t.where(t.notna(), text_to_utc(df["date"], fmt="%m/%d/%Y"))
        raw["label"] = df["classification"].str.strip().replace("", None)
    else:
        raw["date"] = text_to_utc(df["date"])
        raw["label"] = None
    values, bad = numeric_columns(df, ["value"])
    raw["value"] = values["value"]
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    clean, rep = validate_daily_series(raw, file=path.name, lo=0.0, hi=100.0)
    missing = clean["label"].isna()
    clean.loc[missing, "label"] = clean.loc[missing, "value"].map(label_for)
    return clean[["date", "value", "label"]], rep
