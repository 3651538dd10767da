"""Local stand-ins for the Binance, CoinGecko and alternative.me APIs (documented formats).

``FakeState`` lets a test script failures: 429 with Retry-After, Binance 418 bans,
5xx, and error bodies exactly as the providers send them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
import websockets
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cp_market.candles import interval_delta

T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
RATE_LIMIT_BODY_CG = {
    "status": {
        "error_code": 429,
        "error_message": "You've exceeded the Rate Limit. Please visit "
        "https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
    }
}


@dataclass
class FakeState:
    history_end_ms: int = T0_MS + 2500 * 3_600_000  # last open time the fake exchange knows
    fail_plan: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)  # key -> responses
    calls: dict[str, int] = field(default_factory=dict)
    weight: int = 0

    def next_failure(self, key: str) -> tuple[int, dict[str, str]] | None:
        self.calls[key] = self.calls.get(key, 0) + 1
        plan = self.fail_plan.get(key)
        return plan.pop(0) if plan else None


def kline_row(symbol_seed: int, open_ms: int, step_ms: int) -> list[Any]:
    """Deterministic kline array in Binance's REST layout."""
    i = (open_ms - T0_MS) // step_ms
    o = 100.0 + symbol_seed + (i % 50) * 0.5
    c = o + (0.3 if i % 2 else -0.2)
    return [
        open_ms,
        f"{o:.8f}",
        f"{max(o, c) + 0.4:.8f}",
        f"{min(o, c) - 0.4:.8f}",
        f"{c:.8f}",
        f"{10 + i % 7:.8f}",
        open_ms + step_ms - 1,
        f"{(10 + i % 7) * c:.8f}",
        100 + i,
        "5.00000000",
        "500.00000000",
        "0",
    ]


def binance_app(state: FakeState) -> FastAPI:
    app = FastAPI()
    known = {"BTCUSDT": 0, "ETHUSDT": 10, "SOLUSDT": 20, "BANNEDUSDT": 30}

    @app.get("/api/v3/klines")
    async def klines(request: Request) -> JSONResponse:
        q = request.query_params
        symbol = q.get("symbol", "")
        state.weight += 2
        headers = {"x-mbx-used-weight-1m": str(state.weight)}
        failure = state.next_failure(f"klines:{symbol}")
        if failure is not None:
            status, extra = failure
            body: Any = {
                "code": -1003,
                "msg": "Too many requests; please use the websocket for live updates.",
            }
            if status == 418:
                body = {"code": -1003, "msg": "Way too many requests; IP banned until 1704070800000."}
            if status >= 500:
                body = {
                    "code": -1001,
                    "msg": "Internal error; unable to process your request. Please try again.",
                }
            return JSONResponse(body, status_code=status, headers={**headers, **extra})
        if symbol not in known:
            return JSONResponse({"code": -1121, "msg": "Invalid symbol."}, status_code=400, headers=headers)
        step = int(interval_delta(q["interval"]).total_seconds() * 1000)
        start = int(q.get("startTime", T0_MS))
        end = min(int(q.get("endTime", state.history_end_ms)), state.history_end_ms)
        limit = min(int(q.get("limit", 500)), 1000)
        first = T0_MS + max(0, -(-(start - T0_MS) // step)) * step
        rows: list[list[Any]] = []
        t = first
        while t <= end and len(rows) < limit:
            rows.append(kline_row(known[symbol], t, step))
            t += step
        return JSONResponse(rows, headers=headers)

    return app


def coingecko_app(state: FakeState) -> FastAPI:
    app = FastAPI()

    def _limited(key: str) -> JSONResponse | None:
        failure = state.next_failure(key)
        if failure is None:
            return None
        status, extra = failure
        return JSONResponse(RATE_LIMIT_BODY_CG, status_code=status, headers=extra)

    @app.get("/api/v3/coins/markets")
    async def markets(vs_currency: str, page: int = 1, per_page: int = 100) -> Any:
        if (limited := _limited("markets")) is not None:
            return limited
        coins = [
            ("bitcoin", "btc", "Bitcoin", 42000.0, 820e9),
            ("ethereum", "eth", "Ethereum", 2300.0, 276e9),
            ("tether", "usdt", "Tether", 1.0, 91e9),
        ]
        return [
            {
                "id": cid,
                "symbol": sym,
                "name": name,
                "image": "https://example.invalid/x.png",
                "current_price": price,
                "market_cap": cap,
                "market_cap_rank": i + 1,
                "total_volume": cap / 40,
                "price_change_percentage_24h": 1.5,
                "last_updated": "2024-01-01T00:00:00.000Z",
            }
            for i, (cid, sym, name, price, cap) in enumerate(coins)
        ][(page - 1) * per_page : page * per_page]

    @app.get("/api/v3/global")
    async def global_() -> Any:
        if (limited := _limited("global")) is not None:
            return limited
        return {
            "data": {
                "active_cryptocurrencies": 10000,
                "total_market_cap": {"usd": 1.73e12, "btc": 41e6},
                "total_volume": {"usd": 6.0e10},
                "market_cap_percentage": {"btc": 47.5, "eth": 15.9, "usdt": 5.3, "usdc": 1.4},
                "market_cap_change_percentage_24h_usd": -0.5,
                "updated_at": 1704067200,
            }
        }

    @app.get("/api/v3/coins/categories")
    async def categories() -> Any:
        return [
            {
                "id": "meme-token",
                "name": "Meme",
                "market_cap": 2.0e10,
                "market_cap_change_24h": 3.2,
                "volume_24h": 1.5e9,
                "top_3_coins": [],
                "updated_at": "2024-01-01T00:00:00Z",
            },
            {
                "id": "decentralized-finance-defi",
                "name": "Decentralized Finance (DeFi)",
                "market_cap": 5.0e10,
                "market_cap_change_24h": -1.1,
                "volume_24h": 3.0e9,
                "top_3_coins": [],
                "updated_at": "2024-01-01T00:00:00Z",
            },
            {
                "id": "ftx-holdings",
                "name": "FTX Holdings",
                "market_cap": 1.0e9,
                "market_cap_change_24h": 0.1,
                "volume_24h": 1.0e8,
                "top_3_coins": [],
                "updated_at": "2024-01-01T00:00:00Z",
            },
        ]

    return app


def fng_app(state: FakeState) -> FastAPI:
    app = FastAPI()

    @app.get("/fng/")
    async def fng(limit: int = 1, format: str = "json") -> Any:
        if limit < 0:
            return {"name": "Fear and Greed Index", "data": [], "metadata": {"error": "Invalid limit."}}
        values = [(25, "Extreme Fear"), (40, "Fear"), (50, "Neutral"), (60, "Greed"), (80, "Extreme Greed")]
        days = len(values) if limit == 0 else min(limit, len(values))
        data = [
            {
                "value": str(values[i][0]),
                "value_classification": values[i][1],
                "timestamp": str(1704067200 - i * 86400),
                **({"time_until_update": "3600"} if i == 0 else {}),
            }
            for i in range(days)
        ]
        return {"name": "Fear and Greed Index", "data": data, "metadata": {"error": None}}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpServerThread:
    """uvicorn serving the fake apps on 127.0.0.1 in a background thread."""

    def __init__(self, state: FakeState) -> None:
        app = FastAPI()
        app.mount("/binance", binance_app(state))
        app.mount("/coingecko", coingecko_app(state))
        app.mount("/altme", fng_app(state))
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def ws_kline(symbol: str, interval: str, open_ms: int, closed: bool, close: float) -> str:
    step = int(interval_delta(interval).total_seconds() * 1000)
    k = {
        "t": open_ms,
        "T": open_ms + step - 1,
        "s": symbol,
        "i": interval,
        "f": 100,
        "L": 200,
        "o": "100.0",
        "c": f"{close}",
        "h": f"{max(100.0, close) + 1}",
        "l": f"{min(100.0, close) - 1}",
        "v": "12.5",
        "n": 100,
        "x": closed,
        "q": "1250.0",
        "V": "6.0",
        "Q": "600.0",
        "B": "0",
    }
    data = {"e": "kline", "E": open_ms + step, "s": symbol, "k": k}
    return json.dumps({"stream": f"{symbol.lower()}@kline_{interval}", "data": data})


class DroppingKlineServer:
    """A kline WebSocket that sends scripted messages per connection, then drops the socket.

    ``scripts[i]`` is the list of messages for the i-th connection; after sending them the
    server aborts the TCP connection (no close frame), except for the last script, which
    stays open until the client leaves.
    """

    def __init__(self, scripts: list[list[str]]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.paths: list[str] = []
        self._server: Any = None

    async def _handler(self, ws: Any) -> None:
        index = self.connections
        self.connections += 1
        self.paths.append(ws.request.path)
        script = self.scripts[min(index, len(self.scripts) - 1)]
        for message in script:
            await ws.send(message)
            await asyncio.sleep(0.01)
        if index < len(self.scripts) - 1:
            ws.transport.abort()  # drop mid-stream: no close handshake
            return
        await ws.wait_closed()

    async def start(self) -> str:
        self._server = await websockets.serve(self._handler, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()
