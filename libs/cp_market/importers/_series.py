"""Validation of daily scalar series (market-wide metrics, sentiment)."""

from __future__ import annotations

import pandas as pd

from cp_market.report import ImportReport, RejectReason


def validate_daily_series(
    raw: pd.DataFrame,
    *,
    file: str,
    lo: float | None = None,
    hi: float | None = None,
    report: ImportReport | None = None,
) -> tuple[pd.DataFrame, ImportReport]:
    """Validate rows with ``date`` (UTC), ``value`` and bookkeeping ``_line``/``_reject``.

    Rejections: ``bad_timestamp``, ``bad_number``, ``missing_value``, ``out_of_range``
    (value outside [lo, hi]), ``duplicate_superseded`` (same date again: the later row
    wins). Dates are normalised to midnight UTC. Gaps are not filled (count in ``notes``).
    """
    rep = report if report is not None else ImportReport()
    rep.files.append(file)
    rep.rows_read += len(raw)
    df = raw.copy()
    if "_reject" not in df.columns:
        df["_reject"] = None
    reason = df["_reject"].astype(object).where(df["_reject"].notna(), None)

    def mark(mask: pd.Series, code: RejectReason) -> None:
        nonlocal reason
        reason = reason.where(~(mask & reason.isna()), str(code))

    mark(df["date"].isna(), RejectReason.BAD_TIMESTAMP)
    mark(df["value"].isna(), RejectReason.MISSING_VALUE)
    if lo is not None:
        mark(df["value"] < lo, RejectReason.OUT_OF_RANGE)
    if hi is not None:
        mark(df["value"] > hi, RejectReason.OUT_OF_RANGE)
    df["date"] = df["date"].dt.floor("D")
    ok = reason.isna()
    dup = df[ok].duplicated("date", keep="last")
    dup_idx = dup[dup].index
    if len(dup_idx):
        rep.duplicates_resolved += len(dup_idx)
        reason.loc[dup_idx] = str(RejectReason.DUPLICATE)
    bad = reason.notna()
    for line, d, code in zip(df.loc[bad, "_line"], df.loc[bad, "date"], reason[bad], strict=True):
        rep.reject(file, int(line), RejectReason(code), open_time="" if pd.isna(d) else d.isoformat())
    clean = df[~bad].drop(columns=["_reject", "_line"], errors="ignore").sort_values("date")
    if not ok.all() or not df.loc[ok, "date"].is_monotonic_increasing:
        rep.out_of_order_rows += int((df.loc[ok, "date"].diff() < pd.Timedelta(0)).sum())
    steps = clean["date"].diff().dropna()
    missing = int(((steps / pd.Timedelta(days=1)) - 1).clip(lower=0).sum())
    if missing:
        rep.notes.append(
            f"{file}: {missing} missing days in {int((steps > pd.Timedelta(days=1)).sum())} gaps"
        )
    rep.rows_accepted += len(clean)
    return clean.reset_index(drop=True), rep
