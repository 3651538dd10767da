"""Stored rows -> response bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion_service.api.schemas import AssetOut, CandleOut, QuoteOut, SnapshotOut
from ingestion_service.events import change_pct, volume_usd
from ingestion_service.storage.candles import candle_close


def finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if number == number else None


def candle(row: Mapping[str, Any]) -> CandleOut:
    return CandleOut(
        open_time=row["open_time"],
        close_time=candle_close(row),
        open=row["open"],
        high=row["high"],
        low=row["low"],
        close=row["close"],
        volume=row["volume"],
        quote_volume=row["quote_volume"],
        market_cap=row["market_cap"],
        quote=row["quote"],
        source=row["source"],
        quality_flags=[f for f in row["quality_flags"].split("|") if f],
    )


def asset(row: Mapping[str, Any]) -> AssetOut:
    """A universe row (asset + latest daily quote)."""
    return AssetOut(
        symbol=row["symbol"],
        name=row["name"],
        sector=row["sector"],
        market_cap_rank=row["market_cap_rank"],
        quote=QuoteOut(
            as_of=row["quote_time"],
            price=row["close"],
            change_24h_pct=finite(change_pct(row["close"], row["previous_close"])),
            volume_24h=volume_usd(row),
            market_cap=row["market_cap"],
            quote=row["quote"],
        ),
    )


def snapshot(row: Mapping[str, Any]) -> SnapshotOut:
    return SnapshotOut(**{name: row[name] for name in SnapshotOut.model_fields})
