"""The service's validation gate: every candle passes ``cp_market.validation`` right before the
store, whatever the feed already did, so bad data never reaches the database or the layers.

* History (a candle frame) goes through ``validate_candles`` per interval with the batch's
  capture time, so a candle still open at ``as_of`` is rejected (``incomplete_candle``), as is
  a row its source kept as not closed (``is_closed`` false).
* Live candles (a list) go through ``check_candle`` one by one (microseconds each); a candle
  the source marked as not closed is rejected as incomplete whatever its time says.

Rejections are added to the batch's ``ImportReport`` (file ``ingestion-check``) so that
``rows_read == rows_accepted + rows_rejected`` still holds, and every rejection of the report
is counted in ``ingestion_rejected_candles_total{reason}``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from cp_market.candles import Candle
from cp_market.report import ImportReport, Rejection, RejectReason
from cp_market.validation import check_candle, validate_candles
from ingestion_service.metrics import REJECTED
from ingestion_service.settings import STORED_INTERVALS
from ingestion_service.storage.bulk import CandleRows

log = logging.getLogger(__name__)

CHECK_FILE = "ingestion-check"


def _rejection(candle: Candle, reason: RejectReason) -> Rejection:
    return Rejection(CHECK_FILE, -1, reason, candle.symbol, pd.Timestamp(candle.open_time).isoformat())


def check_live(candles: Sequence[Candle], *, as_of: datetime) -> tuple[CandleRows, list[Rejection]]:
    rows = CandleRows()
    rejected: list[Rejection] = []
    for candle in candles:
        if candle.interval not in STORED_INTERVALS:
            continue
        if not candle.is_closed:
            rejected.append(_rejection(candle, RejectReason.INCOMPLETE_CANDLE))
            continue
        accepted, reason = check_candle(candle, as_of=as_of)
        if reason is not None:
            rejected.append(_rejection(candle, reason))
        else:
            assert accepted is not None
            rows.append(accepted)
    return rows, rejected


def check_history(frame: pd.DataFrame, *, as_of: datetime) -> tuple[CandleRows, list[Rejection]]:
    parts: list[pd.DataFrame] = []
    rejected: list[Rejection] = []
    for interval, part in frame.groupby("interval", sort=False):
        if interval not in STORED_INTERVALS:
            log.warning(
                "candles of an interval the service does not store were skipped",
                extra={"interval": interval, "rows": len(part)},
            )
            continue
        marked_open = ~part["is_closed"].astype(bool)
        for row in part[marked_open].itertuples(index=False):
            rejected.append(
                Rejection(
                    CHECK_FILE,
                    -1,
                    RejectReason.INCOMPLETE_CANDLE,
                    str(row.symbol),
                    pd.Timestamp(row.open_time).isoformat(),
                )
            )
        part = part[~marked_open]
        clean, scratch = validate_candles(part, interval=str(interval), as_of=as_of, file=CHECK_FILE)
        parts.append(clean)
        rejected.extend(scratch.rejections)
    if not parts:
        return CandleRows(), rejected
    # grouped by symbol (every interval of a symbol together), in time order within each
    merged = pd.concat(parts, ignore_index=True).sort_values(["symbol", "open_time"], kind="stable")
    return CandleRows.from_frame(merged), rejected


def check_candles(
    candles: pd.DataFrame | Sequence[Candle],
    *,
    as_of: datetime,
    report: ImportReport,
    counted: bool,
) -> CandleRows:
    """The candles that may be stored. Rejections go into ``report`` and the metrics, together
    with those the source already made. ``counted``: the source's report already counts these
    rows as read and accepted (file imports); otherwise they are counted here."""
    if not counted:
        report.rows_read += len(candles)
        report.rows_accepted += len(candles)
    if isinstance(candles, pd.DataFrame):
        rows, rejected = check_history(candles, as_of=as_of) if not candles.empty else (CandleRows(), [])
    else:
        rows, rejected = check_live(candles, as_of=as_of)
    report.rejections.extend(rejected)
    report.rows_accepted -= len(rejected)
    count_rejections(report.rejections)
    return rows


def count_rejections(rejections: Sequence[Rejection]) -> None:
    for reason, count in Counter(str(r.reason) for r in rejections).items():
        REJECTED.labels(reason).inc(count)
