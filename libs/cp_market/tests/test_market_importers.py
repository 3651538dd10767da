"""Every format in the shared data directory imports; the documented traps are handled."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from cp_market.candles import validate_candle_frame
from cp_market.importers import (
    binance,
    cmc,
    coingecko_global,
    cryptodatadownload,
    fear_greed,
    import_candle_file,
    metadata,
    yahoo,
)
from cp_market.importers.scanner import scan_directory
from cp_market.report import RejectReason
from cp_market.validation import ValidationConfig

DAILY_2026 = "daily/binance_spot_2017-2026"
DAILY_2022 = "daily/binance_spot_2017-2022"
PANEL_1H = "intraday/binance_spot_1h_2021-2023"
CDD = "intraday/cryptodatadownload_binance_1h_2017-2021"


def _data_rows(path: Path) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh) - 1


def test_scanner_recognises_every_file(data_dir: Path) -> None:
    scan = scan_directory(data_dir)
    assert scan.unrecognised == []
    formats = {f.format for f in scan.files}
    assert formats == {
        "binance_klines",
        "cmc_daily",
        "yahoo_daily",
        "cryptodatadownload",
        "coingecko_global",
        "fear_greed",
        "dataset_coins",
        "coingecko_categories",
    }
    candles = scan.of_kind("candles")
    assert all(f.interval in {"1d", "4h", "1h"} and f.symbol for f in candles)
    assert {f.symbol for f in candles if f.format == "cmc_daily"} >= {"BTC", "MIOTA", "XEM", "CRO"}


@pytest.mark.parametrize(
    ("module", "relpath", "symbol", "interval"),
    [
        (binance, f"{DAILY_2026}/ETHUSDT_1d.csv", "ETH", "1d"),
        (binance, f"{DAILY_2022}/AXSUSDT_1d.csv", "AXS", "1d"),
        (binance, f"{PANEL_1H}/DOGEUSDT_1h.csv", "DOGE", "1h"),
        (binance, "intraday/binance_spot_4h_2017-2026/BTCUSDT_4h.csv", "BTC", "4h"),
        (binance, "intraday/binance_spot_1h_2018-2026/SOLUSDT_1h.csv", "SOL", "1h"),
        (cmc, "daily/cmc_kaggle_2013-2021/coin_Iota.csv", "MIOTA", "1d"),
        (yahoo, "daily/yahoo_usd_2014-2025/XRP-USD_1d.csv", "XRP", "1d"),
        (cryptodatadownload, f"{CDD}/Binance_ETHUSDT_1h.csv", "ETH", "1h"),
    ],
)
def test_each_candle_format_imports(data_dir: Path, module, relpath: str, symbol: str, interval: str) -> None:
    path = data_dir / relpath
    frame, report = module.import_file(path)
    validate_candle_frame(frame)
    assert report.rows_read == _data_rows(path)
    assert report.rows_accepted == len(frame) > 0
    assert report.rows_read == report.rows_accepted + report.rows_rejected
    assert set(frame["symbol"]) == {symbol} and set(frame["interval"]) == {interval}
    assert frame["is_closed"].all()
    # the dispatcher picks the same importer
    again, _ = import_candle_file(path)
    pd.testing.assert_frame_equal(frame, again)


def test_whole_binance_daily_folder(data_dir: Path) -> None:
    folder = data_dir / DAILY_2026
    total_rows = 0
    symbols = set()
    for path in sorted(folder.glob("*.csv")):
        frame, report = binance.import_file(path)
        validate_candle_frame(frame)
        total_rows += report.rows_read
        symbols |= set(frame["symbol"])
        # no missing days in this folder; only the last (capture-time) candle is held back
        assert report.gaps == [], path.name
        assert report.rejected_by_reason == {"incomplete_candle": 1}, path.name
        assert frame["open_time"].max() < pd.Timestamp(_last_date(path), tz="UTC")
        assert (frame["quote"] == "USDT").all()
    assert len(symbols) == 21 and "BTC" in symbols and "BTCUSDT" not in symbols
    assert total_rows > 30_000


def _last_date(path: Path) -> str:
    with open(path, encoding="utf-8") as fh:
        *_, last = csv.reader(fh)
    return last[0]


def test_cdd_newest_first_duplicates_and_mixed_formats(data_dir: Path) -> None:
    path = data_dir / CDD / "Binance_BTCUSDT_1h.csv"
    frame, report = cryptodatadownload.import_file(path)
    validate_candle_frame(frame)
    # newest-first file: nearly every row is out of order, output is ascending
    assert report.out_of_order_rows > 0.9 * report.rows_read
    assert frame["open_time"].is_monotonic_increasing
    # the 2020-08..11 overlap appears twice; one copy of each hour is dropped
    dups = [r for r in report.rejections if r.reason == RejectReason.DUPLICATE]
    assert len(dups) == report.duplicates_resolved > 2000
    assert not frame.duplicated(["symbol", "open_time"]).any()
    # the kept copy is the millisecond-format (newer) row
    raw = pd.read_csv(path)
    hour = pd.Timestamp(dups[0].open_time)
    copies = raw[raw["date"] == hour.strftime("%Y-%m-%d %H:%M:%S")]
    ms_row = copies[copies["unix"] > 1e11].iloc[0]
    kept = frame[frame["open_time"] == hour].iloc[0]
    assert kept["close"] == pytest.approx(ms_row["close"])
    assert kept["volume"] == pytest.approx(ms_row["Volume BTC"])
    # old-format "2017-08-17 04-AM" rows parse (epoch seconds)
    assert frame["open_time"].min() == pd.Timestamp("2017-08-17 04:00", tz="UTC")
    # zero-volume hours are kept and flagged
    assert frame["quality_flags"].str.contains("zero_volume").sum() == (frame["volume"] == 0).sum() > 50


def test_cdd_header_line_is_skipped(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / CDD / "Binance_ETHUSDT_1h.csv"
    lines = src.read_text(encoding="utf-8").splitlines()[:200]
    copy = tmp_path / "Binance_ETHUSDT_1h.csv"
    copy.write_text("https://www.CryptoDataDownload.com\n" + "\n".join(lines) + "\n", encoding="utf-8")
    frame, report = cryptodatadownload.import_file(copy)
    assert report.rows_read == 199 and len(frame) == 198  # newest row is the open candle
    assert report.rejections[0].line == 3  # URL line + header, then the first data row


def test_incomplete_last_candle(data_dir: Path) -> None:
    path = data_dir / PANEL_1H / "SOLUSDT_1h.csv"
    last = pd.Timestamp(_last_date(path), tz="UTC")
    frame, report = binance.import_file(path)
    assert frame["open_time"].max() < last
    (rej,) = [r for r in report.rejections if r.reason == RejectReason.INCOMPLETE_CANDLE]
    assert rej.line == _data_rows(path) + 1 and pd.Timestamp(rej.open_time) == last
    kept, _ = binance.import_file(path, config=ValidationConfig(include_incomplete=True))
    open_rows = kept[~kept["is_closed"]]
    assert list(open_rows["open_time"]) == [last]
    assert "incomplete" in open_rows["quality_flags"].iloc[0]
    # with a capture time after the candle closed, it counts as closed
    closed, _ = binance.import_file(path, as_of=last + pd.Timedelta(hours=1))
    assert closed["open_time"].max() == last


def test_stale_partial_candles_of_the_bot_export(data_dir: Path) -> None:
    frame, report = binance.import_file(data_dir / DAILY_2022 / "AXSUSDT_1d.csv")
    stale = {
        pd.Timestamp(r.open_time).strftime("%Y-%m-%d")
        for r in report.rejections
        if r.reason == "stale_partial_candle"
    }
    assert stale == set(binance.STALE_PARTIAL_DATES)
    assert not frame["open_time"].dt.strftime("%Y-%m-%d").isin(stale).any()
    # each rejected day leaves a reported gap
    assert report.missing_candles == len(stale) - 1  # the last one is the end of the file


def test_luna_symbol_reuse_is_remapped(data_dir: Path) -> None:
    frame, report = binance.import_file(data_dir / DAILY_2022 / "LUNAUSDT_1d.csv")
    cut = pd.Timestamp("2022-05-28", tz="UTC")
    classic = frame[frame["symbol"] == "LUNA"]
    new = frame[frame["symbol"] == "LUNA2"]
    assert classic["open_time"].max() < cut <= new["open_time"].min()
    # the classic coin collapsed to ~0; the reused ticker opens as a new asset around 1 USD
    assert classic["close"].iloc[-1] < 0.01 and new["open"].iloc[0] / classic["close"].iloc[-1] > 1000
    assert report.symbols_remapped["LUNA->LUNA2"] == len(new)
    rejected, rep2 = binance.import_file(
        data_dir / DAILY_2022 / "LUNAUSDT_1d.csv", config=ValidationConfig(symbol_reuse="reject")
    )
    assert "LUNA2" not in set(rejected["symbol"])
    assert rep2.rejected_by_reason["symbol_reused"] == len(new)


def test_zero_volume_placeholder_is_flagged(data_dir: Path) -> None:
    frame, report = binance.import_file(data_dir / PANEL_1H / "MANAUSDT_1h.csv")
    halt = frame[frame["open_time"] == pd.Timestamp("2023-03-24 12:00", tz="UTC")].iloc[0]
    assert halt["volume"] == 0 and "zero_volume" in halt["quality_flags"]
    assert report.flags["zero_volume"] == (frame["volume"] == 0).sum()
    # 12 missing maintenance hours in 5 gaps, as documented
    assert (report.gaps_found, report.missing_candles) == (5, 12)


def test_flash_crash_wick_flagged_not_removed(data_dir: Path) -> None:
    frame, _ = binance.import_file(data_dir / DAILY_2026 / "LINKUSDT_1d.csv")
    day = frame[frame["open_time"] == pd.Timestamp("2020-03-12", tz="UTC")].iloc[0]
    assert day["high"] / day["low"] > 1000
    assert "extreme_wick" in day["quality_flags"]
    around = frame[
        frame["open_time"].between("2020-03-01", "2020-03-31") & (frame["open_time"] != day["open_time"])
    ]
    assert not around["quality_flags"].str.contains("extreme_wick").any()


def test_cmc_market_cap_and_close_stamps(data_dir: Path) -> None:
    frame, report = cmc.import_file(data_dir / "daily/cmc_kaggle_2013-2021/coin_Solana.csv")
    # Date is the day close (23:59:59) -> open_time is that day 00:00; nothing held back
    assert frame["open_time"].min() == pd.Timestamp("2020-04-11", tz="UTC")
    assert report.rows_rejected == 0
    zero = frame[frame["open_time"] <= pd.Timestamp("2020-06-01", tz="UTC")]
    assert zero["market_cap"].isna().all() and zero["quality_flags"].str.contains("market_cap_missing").all()
    assert frame["market_cap"].iloc[-1] > 1e9
    assert frame["quality_flags"].str.contains("volume_derived").all()
    assert frame["quote_volume"].iloc[-1] == pytest.approx(
        frame["volume"].iloc[-1] * frame[["high", "low", "close"]].iloc[-1].mean()
    )


def test_yahoo_stablecoin_bad_ticks_are_flagged(data_dir: Path) -> None:
    frame, _ = yahoo.import_file(data_dir / "daily/yahoo_usd_2014-2025/USDC-USD_1d.csv")
    bad = frame[frame["open_time"] == pd.Timestamp("2021-11-16", tz="UTC")].iloc[0]
    assert bad["high"] > 2 and "extreme_wick" in bad["quality_flags"]
    assert (frame["quote"] == "USD").all()


def test_market_series_and_fear_greed(data_dir: Path) -> None:
    folder = data_dir / "market/coingecko_global_2018-2025"
    dom, rep = coingecko_global.import_file(folder / "btc_dominance.csv")
    assert rep.rows_rejected == 0 and dom["value"].between(0, 100).all()
    total, _ = coingecko_global.import_file(folder / "total_mcap.csv")
    assert total["stale"].sum() >= 5  # forward-filled repeats are marked
    plain, r1 = fear_greed.import_file(data_dir / "sentiment/alternative_me_fng/fear_greed.csv")
    labelled, _ = fear_greed.import_file(data_dir / "sentiment/alternative_me_fng/fear_greed_index.csv")
    assert (labelled["date"] == labelled["date"].dt.floor("D")).all()  # 05:30 stamps -> dates
    both = plain.merge(labelled, on="date", suffixes=("_p", "_l"))
    assert len(both) > 1000 and (both["value_p"] == both["value_l"]).all()
    derived = both["value_p"].map(fear_greed.label_for)
    assert (derived == both["label_l"]).mean() > 0.99
    assert any("missing days" in n for n in r1.notes)


def test_metadata_files(data_dir: Path) -> None:
    cats, _ = metadata.import_categories(data_dir / "metadata/coingecko_coins_categories_top3000_2025-02.csv")
    assert len(cats) == 3000
    assets, rep = metadata.import_assets(data_dir / "metadata/dataset_coins.csv", cats)
    assert rep.rows_read == 51 and set(assets["sector"]) <= set(metadata.SECTORS)
    luna2 = assets.set_index("symbol").loc["LUNA2"]
    assert luna2["coingecko_id"] == "terra-luna-2" and luna2["market_cap_rank"] == 333
    assert metadata.sector_from_categories("Meme|Solana Ecosystem") == "meme"
    assert metadata.sector_from_categories("Stablecoins|Tokenized Gold") == "commodity_backed"
    # the derived sector agrees with the hand-made map for most of the 51 coins
    merged = assets.merge(cats[["coingecko_id", "sector"]], on="coingecko_id", suffixes=("", "_cg"))
    assert (merged["sector"] == merged["sector_cg"]).mean() > 0.6
