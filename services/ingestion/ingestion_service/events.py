"""Protobuf messages of the service: candles, snapshots and asset quotes (events and gRPC)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from cp_common.proto_enums import to_proto
from cp_market.candles import Candle
from cryptopredict.common.v1 import market_pb2 as common
from cryptopredict.events.v1 import market_pb2 as events
from ingestion_service.settings import STORED_INTERVALS

INTERVAL_TO_PROTO: dict[str, int] = {iv: to_proto(common.Interval, iv) for iv in STORED_INTERVALS}
PROTO_TO_INTERVAL: dict[int, str] = {v: k for k, v in INTERVAL_TO_PROTO.items()}
NAN = math.nan


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _number(value: object) -> float:
    return NAN if value is None else float(value)  # type: ignore[arg-type]


def candle_message(row: Candle | Mapping[str, Any]) -> common.Candle:
    """A stored row (or a ``Candle``) as the contract's ``Candle``; unknown quote volume is NaN."""
    get = (lambda name: getattr(row, name)) if isinstance(row, Candle) else row.__getitem__
    return common.Candle(
        symbol=get("symbol"),
        interval=INTERVAL_TO_PROTO[get("interval")],  # type: ignore[arg-type]
        open_time=timestamp(get("open_time")),
        open=get("open"),
        high=get("high"),
        low=get("low"),
        close=get("close"),
        volume=get("volume"),
        quote_volume=_number(get("quote_volume")),
        source=get("source"),
    )


def candle_closed(candle: Candle) -> events.CandleClosed:
    return events.CandleClosed(candle=candle_message(candle))


def change_pct(now: object, before: object) -> float:
    if now is None or before is None or not before:
        return NAN
    return (float(now) / float(before) - 1.0) * 100.0  # type: ignore[arg-type]


def volume_usd(row: Mapping[str, Any]) -> float | None:
    """A universe row's quote volume, or base volume x close where the source had none."""
    volume, close = row["quote_volume"], row["close"]
    if volume is None and close is not None and row["volume"] is not None:
        return row["volume"] * close
    return volume


def asset_quote(row: Mapping[str, Any]) -> common.AssetQuote:
    """A universe row (see ``storage.assets.universe``) as an ``AssetQuote``."""
    close = row["close"]
    return common.AssetQuote(
        symbol=row["symbol"],
        price_usd=_number(close),
        change_24h_pct=change_pct(close, row["previous_close"]),
        volume_24h_usd=_number(volume_usd(row)),
        market_cap_usd=_number(row["market_cap"]),
        sector=row["sector"] or "",
    )


def snapshot_message(
    row: Mapping[str, Any],
    *,
    market_cap_day_before: float | None = None,
    quotes: Iterable[Mapping[str, Any]] = (),
) -> common.MarketSnapshot:
    """A stored snapshot row as the contract's ``MarketSnapshot`` (unknown figures NaN)."""
    btc, eth = row["btc_dominance"], row["eth_dominance"]
    alt = 100.0 - btc - eth if btc is not None and eth is not None else NAN
    return common.MarketSnapshot(
        snapshot_id=row["taken_at"].isoformat(),
        taken_at=timestamp(row["taken_at"]),
        total_market_cap_usd=_number(row["total_market_cap"]),
        market_cap_change_24h_pct=change_pct(row["total_market_cap"], market_cap_day_before),
        total_volume_24h_usd=_number(row["total_volume_24h"]),
        btc_dominance_pct=_number(btc),
        eth_dominance_pct=_number(eth),
        alt_dominance_pct=alt,
        stablecoin_dominance_pct=_number(row["stablecoin_dominance"]),
        fear_greed_index=_number(row["fear_greed"]),
        volume_trend=NAN,
        funding_rate=NAN,
        assets=[asset_quote(q) for q in quotes],
        source=row["source"],
    )


def snapshot_taken(snapshot: common.MarketSnapshot) -> events.MarketSnapshotTaken:
    return events.MarketSnapshotTaken(snapshot=snapshot)
