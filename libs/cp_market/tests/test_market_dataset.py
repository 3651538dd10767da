"""The loaders that training/evaluation depend on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cp_market.candles import interval_delta, validate_candle_frame
from cp_market.dataset import (
    SNAPSHOT_COLUMNS,
    default_data_dir,
    load_assets,
    load_candles,
    load_market_snapshots,
)
from cp_market.report import ImportReport


def test_default_data_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CP_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_daily_load_merges_sources(daily_all: tuple[pd.DataFrame, ImportReport]) -> None:
    frame, report = daily_all
    validate_candle_frame(frame)
    assert frame["is_closed"].all()
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    btc = frame[frame["symbol"] == "BTC"].set_index("open_time")
    # binance wins where it exists, CMC before it (2013-), Yahoo never for BTC
    assert btc.loc[pd.Timestamp("2019-06-01", tz="UTC"), "source"] == "binance"
    assert btc.loc[pd.Timestamp("2015-06-01", tz="UTC"), "source"] == "cmc"
    assert btc.index.min() == pd.Timestamp("2013-04-29", tz="UTC")
    assert "yahoo" not in set(btc["source"])
    # market cap is filled from CMC onto Binance rows up to 2021-07
    row = btc.loc[pd.Timestamp("2020-06-01", tz="UTC")]
    assert row["source"] == "binance" and row["market_cap"] > 1e11
    assert np.isnan(btc.loc[pd.Timestamp("2022-06-01", tz="UTC"), "market_cap"])
    # stablecoins only exist in CMC/Yahoo; Yahoo fills after CMC ends
    usdt = frame[frame["symbol"] == "USDT"]
    assert {"cmc", "yahoo"} <= set(usdt["source"])
    assert report.overlaps_resolved["yahoo"] > 0 and report.overlaps_resolved["cmc"] > 0
    # LUNA2 has its own series; 50 symbols with daily data (+LUNA2, MKR/FTT are hourly only)
    assert "LUNA2" in set(frame["symbol"]) and frame["symbol"].nunique() >= 49


@pytest.mark.parametrize(
    ("interval", "end"),
    [
        ("1d", "2020-03-12"),
        ("1d", "2021-07-06 13:45"),
        ("4h", "2019-01-01 05:00"),
        ("1h", "2022-05-10 07:59:59"),
    ],
)
def test_load_never_returns_rows_after_end(data_dir: Path, interval: str, end: str) -> None:
    symbols = ["BTC", "ETH", "LUNA", "LUNA2"]
    frame, report = load_candles(data_dir, interval=interval, symbols=symbols, end=end)
    bound = pd.Timestamp(end, tz="UTC")
    assert len(frame) > 0
    assert (frame["open_time"] <= bound).all()
    assert report.rows_after_end > 0  # there was data beyond the bound
    # the last candle at or before the bound is there (bounds are inclusive)
    step = interval_delta(interval)
    assert frame["open_time"].max() == bound.floor(step)


def test_filters_by_symbol_source_and_start(data_dir: Path) -> None:
    frame, _ = load_candles(
        data_dir,
        interval="1d",
        symbols=["eth", "USDC"],
        sources=["yahoo"],
        start="2020-01-01",
        end="2020-12-31",
    )
    assert set(frame["symbol"]) == {"ETH", "USDC"}
    assert set(frame["source"]) == {"yahoo"} and set(frame["quote"]) == {"USD"}
    assert frame["open_time"].min() == pd.Timestamp("2020-01-01", tz="UTC")
    assert frame.groupby("symbol").size().to_dict() == {"ETH": 366, "USDC": 366}


def test_hourly_load_prefers_binance_over_cdd(data_dir: Path) -> None:
    frame, report = load_candles(
        data_dir, interval="1h", symbols=["BTC"], start="2021-04-01", end="2021-04-30"
    )
    validate_candle_frame(frame)
    src = frame.set_index("open_time")["source"]
    assert (
        src[pd.Timestamp("2021-04-02", tz="UTC")] == "cryptodatadownload"
    )  # before the Binance panel starts
    assert src[pd.Timestamp("2021-04-10", tz="UTC")] == "binance"
    assert report.overlaps_resolved["cryptodatadownload"] > 0


def test_include_incomplete(data_dir: Path) -> None:
    closed, _ = load_candles(data_dir, interval="4h", symbols=["ETH"])
    both, _ = load_candles(data_dir, interval="4h", symbols=["ETH"], include_incomplete=True)
    assert len(both) == len(closed) + 1
    assert not both["is_closed"].iloc[-1] and closed["is_closed"].all()


def test_missing_directory_gives_empty_frame(tmp_path: Path) -> None:
    frame, report = load_candles(tmp_path, interval="1d")
    validate_candle_frame(frame)
    assert frame.empty and report.rows_read == 0


def test_market_snapshots(data_dir: Path) -> None:
    snaps = load_market_snapshots(data_dir, start="2018-01-01", end="2023-06-30")
    assert tuple(snaps.columns) == SNAPSHOT_COLUMNS
    assert str(snaps.index.tz) == "UTC" and snaps.index.is_monotonic_increasing
    assert snaps.index.max() <= pd.Timestamp("2023-06-30", tz="UTC")
    assert snaps["btc_dominance"].between(0, 100).all()
    assert snaps["fear_greed"].dropna().between(0, 100).all()
    assert (
        snaps["fear_greed_label"]
        .dropna()
        .isin(["Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed"])
        .all()
    )
    assert snaps.loc["2018-01-15":"2018-01-31", "fear_greed"].isna().all()  # index starts 2018-02-01
    ratio = snaps["usdt_market_cap"] / snaps["total_market_cap"] * 100
    np.testing.assert_allclose(snaps["stablecoin_dominance"], ratio)
    assert snaps.loc[pd.Timestamp("2018-01-16", tz="UTC"), "stale_total_market_cap"]
    # the API's missing days stay missing (no forward fill)
    assert np.isnan(snaps.loc[pd.Timestamp("2018-04-15", tz="UTC"), "fear_greed"])


def test_assets(data_dir: Path) -> None:
    assets = load_assets(data_dir)
    assert {"symbol", "name", "sector", "market_cap_rank"} <= set(assets.columns)
    by = assets.set_index("symbol")
    assert by.loc["BTC", "sector"] == "layer1" and by.loc["BTC", "market_cap_rank"] == 1
    assert by.loc["USDT", "sector"] == "stablecoin" and by.loc["LUNA2", "sector"] == "layer1"
    assert pd.isna(by.loc["FTT", "market_cap_rank"])
    assert assets["symbol"].is_unique
