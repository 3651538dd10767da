"""Binance spot market data: REST klines (backfill) and the kline WebSocket (live).

REST ``GET {base}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=..&endTime=..&limit=1000``
answers arrays ``[openTime, open, high, low, close, volume, closeTime, quoteVolume,
trades, takerBuyBase, takerBuyQuote, ignore]``; pages are followed until ``end``.
Rows are validated like file imports; a candle whose close time is after "now" is still
open and is dropped.

WebSocket ``{ws_base}/stream?streams=btcusdt@kline_1h/...`` (combined stream, messages
``{"stream": ..., "data": {"e": "kline", "s": "BTCUSDT", "k": {...}}}``; plain
``/ws/<stream>`` messages without the envelope are accepted too). A candle is emitted only
when ``k.x`` is true (closed). On a dropped connection the client reconnects with
exponential backoff + jitter and, when a REST source is attached, backfills the candles
that closed while it was away; candles already emitted are never emitted twice.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterable
from typing import Any

import numpy as np
import pandas as pd
import websockets

from cp_market.candles import (
    Candle,
    candles_from_frame,
    empty_candle_frame,
    interval_delta,
    to_utc_timestamp,
)
from cp_market.report import ImportReport
from cp_market.sources.base import CandleSource
from cp_market.sources.http import JsonHttpClient, RetryPolicy
from cp_market.symbols import split_pair
from cp_market.validation import validate_candles

DEFAULT_REST_URL = "https://api.binance.com"
DEFAULT_WS_URL = "wss://stream.binance.com:9443"
MAX_LIMIT = 1000


def pair_for(symbol: str, quote: str = "USDT") -> str:
    """ "BTC" -> "BTCUSDT" (pairs are passed through)."""
    s = symbol.upper()
    base, q = split_pair(s)
    return s if q and base else f"{s}{quote}"


def klines_to_frame(rows: list[list[Any]], pair: str, interval: str) -> pd.DataFrame:
    """Raw kline arrays -> raw candle rows (not yet validated)."""
    base, quote = split_pair(pair)
    if not rows:
        return pd.DataFrame()
    arr = pd.DataFrame([r[:8] for r in rows], columns=list(range(8)))
    raw = pd.DataFrame(
        {
            "open_time": pd.to_datetime(arr[0].astype("int64"), unit="ms", utc=True),
            "open": pd.to_numeric(arr[1], errors="coerce"),
            "high": pd.to_numeric(arr[2], errors="coerce"),
            "low": pd.to_numeric(arr[3], errors="coerce"),
            "close": pd.to_numeric(arr[4], errors="coerce"),
            "volume": pd.to_numeric(arr[5], errors="coerce"),
            "quote_volume": pd.to_numeric(arr[7], errors="coerce"),
        }
    )
    raw["symbol"] = base
    raw["quote"] = quote or "USDT"
    raw["source"] = "binance"
    raw["_file"] = f"binance:{pair}:{interval}"
    raw["_line"] = np.arange(len(raw)) + 1
    return raw


class BinanceRestSource(CandleSource):
    """Backfill from ``/api/v3/klines`` (``stream`` polls it for newly closed candles)."""

    name = "binance-rest"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_REST_URL,
        quote: str = "USDT",
        policy: RetryPolicy | None = None,
        symbols: Iterable[str] = (),
        interval: str = "1h",
        poll_seconds: float = 30.0,
        client: JsonHttpClient | None = None,
    ) -> None:
        self.http = client or JsonHttpClient(base_url, policy=policy)
        self.quote = quote
        self.symbols = [s.upper() for s in symbols]
        self.interval = interval
        self.poll_seconds = poll_seconds
        self.last_report = ImportReport()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_klines(
        self, symbol: str, interval: str, start: object, end: object, *, now: object = None
    ) -> pd.DataFrame:
        """Closed candles of one symbol with ``start <= open_time <= end`` (paginated)."""
        pair = pair_for(symbol, self.quote)
        step = interval_delta(interval)
        t0, t1 = to_utc_timestamp(start), to_utc_timestamp(end)
        now_ts = to_utc_timestamp(now) or pd.Timestamp.now(tz="UTC")
        assert t0 is not None and t1 is not None
        rows: list[list[Any]] = []
        cursor = t0
        while cursor <= t1:
            params = {
                "symbol": pair,
                "interval": interval,
                "startTime": int(cursor.value // 1_000_000),
                "endTime": int(t1.value // 1_000_000),
                "limit": MAX_LIMIT,
            }
            page = await self.http.get_json("/api/v3/klines", params)
            if not page:
                break
            rows.extend(page)
            last_open = pd.Timestamp(int(page[-1][0]), unit="ms", tz="UTC")
            if len(page) < MAX_LIMIT:
                break
            cursor = last_open + step
        raw = klines_to_frame(rows, pair, interval)
        if raw.empty:
            return empty_candle_frame()
        frame, report = validate_candles(raw, interval=interval, as_of=now_ts)
        self.last_report = report
        return frame[(frame["open_time"] >= t0) & (frame["open_time"] <= t1)].reset_index(drop=True)

    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        frames = [await self.fetch_klines(s, interval, start, end) for s in symbols]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return empty_candle_frame()
        return pd.concat(frames, ignore_index=True).sort_values(["symbol", "open_time"], ignore_index=True)

    async def stream(self) -> AsyncIterator[Candle]:
        """Poll for newly closed candles of ``symbols`` every ``poll_seconds``."""
        step = interval_delta(self.interval)
        last: dict[str, pd.Timestamp] = {}
        while True:
            now = pd.Timestamp.now(tz="UTC")
            for sym in self.symbols:
                start = last.get(sym, now.floor(step) - step)
                frame = await self.fetch_klines(sym, self.interval, start, now, now=now)
                for candle in candles_from_frame(frame):
                    ts = pd.Timestamp(candle.open_time)
                    if sym in last and ts <= last[sym]:
                        continue
                    last[sym] = ts
                    yield candle
            await asyncio.sleep(self.poll_seconds)


def kline_message_to_candle(message: dict[str, Any]) -> Candle | None:
    """A kline event (combined-stream envelope or bare) -> Candle if closed, else None."""
    data = message.get("data", message)
    if not isinstance(data, dict) or data.get("e") != "kline":
        return None
    k = data.get("k") or {}
    if not k.get("x"):
        return None
    base, quote = split_pair(str(k.get("s") or data.get("s") or ""))
    return Candle(
        symbol=base,
        interval=str(k["i"]),
        open_time=pd.Timestamp(int(k["t"]), unit="ms", tz="UTC").to_pydatetime(),
        open=float(k["o"]),
        high=float(k["h"]),
        low=float(k["l"]),
        close=float(k["c"]),
        volume=float(k["v"]),
        quote_volume=float(k.get("q", "nan")),
        source="binance",
        quote=quote or "USDT",
    )


class BinanceWebSocketSource(CandleSource):
    """Live closed klines from the Binance WebSocket, with reconnects and gap backfill."""

    name = "binance-ws"

    def __init__(
        self,
        symbols: Iterable[str],
        interval: str = "1h",
        *,
        ws_url: str = DEFAULT_WS_URL,
        quote: str = "USDT",
        rest: BinanceRestSource | None = None,
        policy: RetryPolicy | None = None,
        max_reconnects: int | None = None,
    ) -> None:
        self.symbols = [s.upper() for s in symbols]
        self.interval = interval
        self.ws_url = ws_url.rstrip("/")
        self.quote = quote
        self.rest = rest
        self.policy = policy or RetryPolicy()
        self.max_reconnects = max_reconnects
        self.reconnects = 0
        self._last: dict[str, pd.Timestamp] = {}

    @property
    def url(self) -> str:
        streams = "/".join(f"{pair_for(s, self.quote).lower()}@kline_{self.interval}" for s in self.symbols)
        return f"{self.ws_url}/stream?streams={streams}"

    async def aclose(self) -> None:
        if self.rest is not None:
            await self.rest.aclose()

    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        """History comes from REST (the WebSocket only carries live klines)."""
        if self.rest is None:
            self.rest = BinanceRestSource(quote=self.quote, policy=self.policy)
        return await self.rest.backfill(symbols, interval, start, end)

    def _fresh(self, candle: Candle) -> bool:
        ts = pd.Timestamp(candle.open_time)
        prev = self._last.get(candle.symbol)
        if prev is not None and ts <= prev:
            return False
        self._last[candle.symbol] = ts
        return True

    async def _gap_fill(self) -> list[Candle]:
        if self.rest is None or not self._last:
            return []
        step = interval_delta(self.interval)
        now = pd.Timestamp.now(tz="UTC")
        out: list[Candle] = []
        for sym, last in self._last.items():
            frame = await self.rest.fetch_klines(sym, self.interval, last + step, now, now=now)
            out.extend(c for c in candles_from_frame(frame))
        return sorted(out, key=lambda c: (c.open_time, c.symbol))

    async def stream(self) -> AsyncIterator[Candle]:
        attempt = 0
        rng = random.Random()
        while True:
            try:
                async with websockets.connect(self.url, open_timeout=10, close_timeout=2) as ws:
                    if self.reconnects:
                        for candle in await self._gap_fill():
                            if self._fresh(candle):
                                yield candle
                    async for raw in ws:
                        attempt = 0
                        try:
                            message = json.loads(raw)
                        except ValueError:
                            continue
                        live = kline_message_to_candle(message)
                        if live is not None and self._fresh(live):
                            yield live
                # server closed the stream cleanly (Binance does so every 24 h): reconnect
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake, TimeoutError):
                pass
            self.reconnects += 1
            if self.max_reconnects is not None and self.reconnects > self.max_reconnects:
                return
            await asyncio.sleep(self.policy.backoff(attempt, rng))
            attempt += 1
