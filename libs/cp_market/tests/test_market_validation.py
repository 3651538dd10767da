"""Validation rules on small constructed frames (one rule per test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cp_market.candles import validate_candle_frame
from cp_market.report import RejectReason
from cp_market.validation import ValidationConfig, extreme_wick_mask, validate_candles

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _raw(n: int = 30, interval_hours: int = 1, **cols: object) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    df = pd.DataFrame(
        {
            "symbol": "BTC",
            "open_time": [T0 + pd.Timedelta(hours=interval_hours * i) for i in range(n)],
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": rng.uniform(1, 2, n),
            "source": "test",
        }
    )
    for k, v in cols.items():
        df[k] = v
    return df


AS_OF = T0 + pd.Timedelta(days=10)


def test_clean_frame_passes_untouched() -> None:
    raw = _raw()
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF)
    validate_candle_frame(frame)
    assert len(frame) == 30 and rep.rows_rejected == 0 and rep.gaps == []
    assert (frame["quality_flags"] == "").all()


@pytest.mark.parametrize(
    ("row_change", "reason"),
    [
        ({"close": -1.0}, RejectReason.NON_POSITIVE_PRICE),
        ({"open": 0.0}, RejectReason.NON_POSITIVE_PRICE),
        ({"volume": -5.0}, RejectReason.NEGATIVE_VOLUME),
        ({"high": 1.0}, RejectReason.OHLC_INCONSISTENT),  # high below the body
        ({"low": 10_000.0}, RejectReason.OHLC_INCONSISTENT),
        ({"close": np.nan}, RejectReason.MISSING_VALUE),
        ({"open_time": pd.NaT}, RejectReason.BAD_TIMESTAMP),
        ({"open_time": T0 + pd.Timedelta(minutes=90)}, RejectReason.MISALIGNED_TIME),
        ({"symbol": ""}, RejectReason.UNKNOWN_SYMBOL),
    ],
)
def test_each_bad_row_gets_one_reason(row_change: dict[str, object], reason: RejectReason) -> None:
    raw = _raw()
    for col, value in row_change.items():
        raw[col] = raw[col].astype(object)
        raw.loc[5, col] = value
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF, file="x.csv")
    assert rep.rejected_by_reason == {str(reason): 1}
    (rej,) = rep.rejections
    assert (rej.file, rej.line, rej.reason) == ("x.csv", 7, reason)  # header is line 1
    assert len(frame) == 29
    validate_candle_frame(frame)


def test_duplicates_keep_the_latest_row_and_count_conflicts() -> None:
    raw = _raw(10)
    extra = raw.iloc[[3, 4]].copy()
    extra.loc[extra.index[0], "close"] = extra.loc[extra.index[0], "close"] * 1.001  # conflicting copy
    extra.loc[extra.index[0], "high"] = extra.loc[extra.index[0], ["open", "close"]].max() * 1.01
    both = pd.concat([raw, extra], ignore_index=True)
    frame, rep = validate_candles(both, interval="1h", as_of=AS_OF)
    assert (rep.duplicates_resolved, rep.duplicate_conflicts) == (2, 1)
    assert rep.rejected_by_reason == {"duplicate_superseded": 2}
    assert {r.line for r in rep.rejections} == {5, 6}  # the earlier rows lose
    assert frame.loc[3, "close"] == pytest.approx(extra.iloc[0]["close"])
    # an explicit priority beats file order
    both["_priority"] = 0
    both.loc[3, "_priority"] = 1
    frame2, _ = validate_candles(both, interval="1h", as_of=AS_OF)
    assert frame2.loc[3, "close"] == pytest.approx(raw.loc[3, "close"])


def test_out_of_order_rows_are_counted_and_sorted() -> None:
    raw = _raw(12).iloc[::-1]
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF)
    assert rep.out_of_order_rows == 11
    assert frame["open_time"].is_monotonic_increasing


def test_gaps_are_reported_not_filled() -> None:
    raw = _raw(20).drop(index=[5, 6, 7, 12])
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF)
    assert len(frame) == 16
    assert [(g.after.hour, g.before.hour, g.missing) for g in rep.gaps] == [(4, 8, 3), (11, 13, 1)]


def test_incomplete_candles_relative_to_as_of() -> None:
    raw = _raw(24)
    as_of = T0 + pd.Timedelta(hours=20, minutes=30)  # the 20:00 candle is still open
    frame, rep = validate_candles(raw, interval="1h", as_of=as_of)
    assert frame["open_time"].max() == T0 + pd.Timedelta(hours=19)
    assert rep.rejected_by_reason == {"incomplete_candle": 4}
    kept, _ = validate_candles(
        raw, interval="1h", as_of=as_of, config=ValidationConfig(include_incomplete=True)
    )
    assert (~kept["is_closed"]).sum() == 4
    assert kept.loc[~kept["is_closed"], "quality_flags"].str.contains("incomplete").all()
    # no capture time: the latest candle of the batch is the open one
    _, rep2 = validate_candles(raw, interval="1h")
    assert rep2.rejected_by_reason == {"incomplete_candle": 1}


def test_extreme_wick_rules() -> None:
    raw = _raw(40)
    raw.loc[25, "low"] = raw.loc[25, "low"] * 0.80  # 20 % wick, huge vs. ATR
    raw.loc[30, "high"] = raw.loc[30, "high"] * 1.002  # tiny extra wick: not extreme
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF)
    flagged = frame.index[frame["quality_flags"].str.contains("extreme_wick")].tolist()
    assert flagged == [25] and rep.flags["extreme_wick"] == 1
    # the absolute rule fires even without ATR history (first candles)
    first = _raw(2)
    first.loc[0, "low"] = first.loc[0, ["open", "close"]].min() * 0.3
    mask = extreme_wick_mask(first.assign(quality_flags=""))
    assert mask.tolist() == [True, False]


def test_symbol_reuse_policies() -> None:
    raw = _raw(5, interval_hours=24, symbol="LUNA")
    raw["open_time"] = [pd.Timestamp("2022-05-26", tz="UTC") + pd.Timedelta(days=i) for i in range(5)]
    as_of = pd.Timestamp("2023-01-01", tz="UTC")
    frame, rep = validate_candles(raw, interval="1d", as_of=as_of)
    assert frame.groupby("symbol").size().to_dict() == {"LUNA": 2, "LUNA2": 3}
    assert rep.symbols_remapped == {"LUNA->LUNA2": 3}
    frame2, rep2 = validate_candles(
        raw, interval="1d", as_of=as_of, config=ValidationConfig(symbol_reuse="reject")
    )
    assert set(frame2["symbol"]) == {"LUNA"} and rep2.rejected_by_reason == {"symbol_reused": 3}


def test_zero_volume_and_zero_market_cap_are_flags() -> None:
    raw = _raw(5, market_cap=[0.0, 1e9, 1e9, 1e9, 1e9])
    raw.loc[2, "volume"] = 0.0
    frame, rep = validate_candles(raw, interval="1h", as_of=AS_OF)
    assert rep.rows_rejected == 0
    assert np.isnan(frame.loc[0, "market_cap"]) and "market_cap_missing" in frame.loc[0, "quality_flags"]
    assert frame.loc[2, "quality_flags"] == "zero_volume"
