"""The seeds' mixed-user load scenario as locust users, run headless in-process (locust as a
library: ``Environment`` + ``LocalRunner``) for a bounded time; prints its figures as JSON.

Started by ``bench_locust.py`` in a subprocess of its own: importing locust patches the standard
library with gevent, which the asyncio code of the benchmark runner must never see.

Input (JSON on stdin): ``host`` (the gateway), ``accounts`` (registered ``email``/``password``
pairs, one per user), ``users``, ``spawn_rate``, ``seconds`` and ``signals_path``.

``Trader``: logs in (a session's start), then (think time 1-3 s) reads the casual dashboard, the
market regime, the sectors, the signals, candles and its own account, and opens the dashboard
WebSocket (answered with its ``dashboard_init`` snapshot, then closed). Every answer
must be a 200 carrying real data (not an empty list), else it counts as an error.
``Hammer``: one user reading the market regime five times a second, over its per-user limit
(100 per 60 s) on purpose; its 429s are the intended ones, counted apart. A 429 anywhere else is
an error.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import gevent
import websocket
from locust import FastHttpUser, between, constant_pacing, task
from locust.env import Environment
from locust.stats import StatsEntry

CONFIG: dict[str, Any] = {}
INTENDED_429: Counter[str] = Counter()
UNINTENDED_429: Counter[str] = Counter()
PERCENTILES = (0.5, 0.95, 0.99)


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) and body.get("success") is True else None


def has_data(body: Any) -> bool:
    data = _data(body)
    return bool(data) and (not isinstance(data, dict) or any(bool(v) for v in data.values()))


def has_signals(body: Any) -> bool:
    data = _data(body)
    return isinstance(data, dict) and bool(data.get("signals"))


def has_candles(body: Any) -> bool:
    data = _data(body)
    candles = data.get("candles") if isinstance(data, dict) else data
    return bool(candles)


class Trader(FastHttpUser):
    weight = 100
    wait_time = between(1, 3)
    accounts: list[dict[str, str]] = []
    token = ""

    def on_start(self) -> None:
        self.credentials = Trader.accounts.pop() if Trader.accounts else CONFIG["accounts"][0]
        self.login()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _read(self, path: str, name: str, check: Callable[[Any], bool] = has_data) -> None:
        with self.client.get(path, headers=self._auth(), name=name, catch_response=True) as response:
            if response.status_code == 429:
                UNINTENDED_429[name] += 1
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
            elif not check(response.json()):
                response.failure(f"no data: {(response.text or '')[:120]}")

    def login(self) -> None:
        with self.client.post(
            "/api/v1/auth/login", json=self.credentials, name="POST /auth/login", catch_response=True
        ) as response:
            token = (
                (_data(response.json()) or {}).get("access_token") if response.status_code == 200 else None
            )
            if not token:
                response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
                return
            self.token = str(token)

    @task(3)
    def dashboard(self) -> None:
        self._read("/api/v1/dashboard/casual", "GET /dashboard/casual")

    @task(2)
    def regime(self) -> None:
        self._read("/api/v1/layer1/market-regime", "GET /layer1/market-regime")

    @task(2)
    def sectors(self) -> None:
        self._read("/api/v1/layer2/sectors", "GET /layer2/sectors")

    @task(3)
    def signals(self) -> None:
        self._read(CONFIG["signals_path"], "GET /layer4/signals", has_signals)

    @task(3)
    def candles(self) -> None:
        self._read("/api/v1/market/candles/BTC?interval=1d&limit=30", "GET /market/candles", has_candles)

    @task(2)
    def account(self) -> None:
        self._read("/api/v1/auth/me", "GET /auth/me")

    @task(1)
    def live_updates(self) -> None:
        """Open the dashboard stream, wait for its snapshot, close it: one ``WS`` request."""
        url = CONFIG["host"].replace("http://", "ws://", 1) + "/api/v1/ws/dashboard"
        started = time.perf_counter()
        error: Exception | None = None
        length = 0
        try:
            ws = websocket.create_connection(
                url, subprotocols=["cryptopredict.v1", f"bearer.{self.token}"], timeout=10
            )
            try:
                first = ws.recv()
                length = len(first)
                kind = json.loads(first).get("type")
                if kind != "dashboard_init":
                    error = RuntimeError(f"first message {kind!r}, not dashboard_init")
            finally:
                ws.close()
        except Exception as exc:  # a refused or broken stream is an error of this request
            error = exc
        self.environment.events.request.fire(
            request_type="WS",
            name="WS /ws/dashboard",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )


class Hammer(FastHttpUser):
    """Over its per-user limit on purpose: its 429s are the intended ones."""

    fixed_count = 1
    wait_time = constant_pacing(0.2)
    token = ""

    def on_start(self) -> None:
        account = CONFIG["hammer_account"]
        response = self.client.post("/api/v1/auth/login", json=account, name="POST /auth/login")
        self.token = str(response.json()["data"]["access_token"])

    @task
    def regime(self) -> None:
        name = "GET /layer1/market-regime (over its limit)"
        with self.client.get(
            "/api/v1/layer1/market-regime",
            headers={"Authorization": f"Bearer {self.token}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 429:
                INTENDED_429[name] += 1
                response.success()
            elif response.status_code != 200:
                response.failure(f"{response.status_code}")


def _figures(entry: StatsEntry) -> dict[str, Any]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        **{f"p{round(q * 100)}_ms": entry.get_response_time_percentile(q) for q in PERCENTILES},
        "requests_per_s": round(entry.total_rps, 1),
    }


def report(env: Environment, seconds: float) -> dict[str, Any]:
    total = env.stats.total
    intended = sum(INTENDED_429.values())
    return {
        "users": CONFIG["users"],
        "seconds": round(seconds, 1),
        **_figures(total),
        "error_rate": round(total.num_failures / total.num_requests, 5) if total.num_requests else None,
        "intended_429": intended,
        "unintended_429": sum(UNINTENDED_429.values()),
        "endpoints": {name: _figures(entry) for (name, _method), entry in sorted(env.stats.entries.items())},
        "errors": [
            {"name": error.name, "error": str(error.error)[:200], "count": error.occurrences}
            for error in env.stats.errors.values()
        ][:10],
    }


def main() -> int:
    CONFIG.update(json.load(sys.stdin))
    accounts = list(CONFIG["accounts"])
    CONFIG["hammer_account"] = accounts.pop()
    Trader.accounts = accounts
    env = Environment(user_classes=[Trader, Hammer], host=CONFIG["host"], stop_timeout=10)
    runner = env.create_local_runner()
    started = time.monotonic()
    runner.start(CONFIG["users"], spawn_rate=CONFIG["spawn_rate"])
    gevent.spawn_later(CONFIG["seconds"], runner.quit)
    runner.greenlet.join()
    print(json.dumps(report(env, time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
