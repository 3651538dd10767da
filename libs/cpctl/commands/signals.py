"""``cpctl signals``: Layer 4's trading signals (list, show, execute on paper, tail live), and
``portfolio`` / ``performance``."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from cpctl import output
from cpctl.errors import CliError, ExitCode
from cpctl.output import Column
from cpctl.state import state

TIMING = "layer4-timing"
app = typer.Typer(help="Layer 4 trading signals.", no_args_is_help=True)

SIGNAL_COLUMNS = [
    Column("id", "id"),
    Column("symbol", "symbol"),
    Column("type", "signal_type"),
    Column("confidence", "confidence_score", "num"),
    Column("entry", "entry_price", "usd"),
    Column("target", "target_price", "usd"),
    Column("stop", "stop_loss", "usd"),
    Column("R/R", "risk_reward_ratio", "num"),
    Column("status", "status"),
    Column("expires", "expires_at"),
]


def _signal_rows(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return next((v for k, v in data.items() if k in ("signals", "items") and isinstance(v, list)), [])
    return []


@app.command("list")
def list_signals(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option(help="active, target_hit, stopped_out, expired, cancelled")
    ] = "active",
    confidence_min: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="default: the service's display gate")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="only this asset")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """Signals, newest first (defaults: active, the service's confidence gate, 20)."""
    current = state(ctx)
    params = {"status": status, "confidence_min": confidence_min, "symbol": symbol, "limit": limit}
    data = current.client.call("GET", "/api/v1/layer4/signals", service=TIMING, params=params)
    output.show(data, current.as_json, lambda d: output.table(_signal_rows(d), SIGNAL_COLUMNS))


@app.command("show")
def show_signal(ctx: typer.Context, signal_id: str) -> None:
    """One signal with its reasoning, risk assessment and probabilities."""
    current = state(ctx)
    data = current.client.call("GET", f"/api/v1/layer4/signals/{signal_id}", service=TIMING)
    output.show(data, current.as_json, output.fields)


@app.command("execute")
def execute_signal(
    ctx: typer.Context,
    signal_id: str,
    size: Annotated[
        float | None,
        typer.Option(
            min=0.0001, max=1.0, help="fraction of paper equity (default: the signal's suggested size)"
        ),
    ] = None,
) -> None:
    """Execute a signal on the paper account (never with real money)."""
    current = state(ctx)
    body = {"size": size} if size is not None else None
    data = current.client.call(
        "POST", f"/api/v1/layer4/signals/{signal_id}/execute", service=TIMING, body=body
    )
    output.show(data, current.as_json, output.fields)


def _websocket_url(gateway: str, path: str) -> str:
    parts = urlsplit(gateway)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


#: WebSocket close codes of the notification service and what they mean here.
CLOSE_CODES = {
    4001: ("authentication failed: run `cpctl login`", ExitCode.NOT_LOGGED_IN),
    4002: ("the session expired or was revoked: run `cpctl login`", ExitCode.NOT_LOGGED_IN),
    4003: ("not allowed for this account", ExitCode.FORBIDDEN),
}
SUBPROTOCOL = "cryptopredict.v1"


@app.command("tail")
def tail(
    ctx: typer.Context,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many messages")] = None,
) -> None:
    """Follow signals live (WebSocket): the current snapshot first, then each new or closed
    signal; one line per message, JSON lines with --json."""
    current = state(ctx)
    session = current.client.require_session()
    url = _websocket_url(current.client.gateway, "/api/v1/ws/signals")
    # The token goes in the subprotocol header, never in a URL that could be logged.
    offered = [Subprotocol(SUBPROTOCOL), Subprotocol(f"bearer.{session.access_token}")]
    received = 0
    try:
        with connect(url, subprotocols=offered, open_timeout=10) as socket:
            for raw in socket:
                _print_message(raw, current.as_json)
                received += 1
                if count is not None and received >= count:
                    return
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise CliError(
            f"live signals are not served here: the notification service answered {status}",
            ExitCode.UNAVAILABLE,
        ) from None
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd is not None else None
        message, exit_code = CLOSE_CODES.get(
            code or 0, (f"the live signal stream closed ({code})", ExitCode.UNAVAILABLE)
        )
        raise CliError(message, exit_code) from None
    except (OSError, WebSocketException) as exc:
        raise CliError(f"live signal stream failed: {exc}", ExitCode.UNAVAILABLE) from None


def _print_message(raw: str | bytes, as_json: bool) -> None:
    try:
        message = json.loads(raw)
    except ValueError:
        message = {"type": "text", "data": raw if isinstance(raw, str) else raw.decode(errors="replace")}
    if as_json:
        print(json.dumps(message, default=str), flush=True)
        return
    data = message.get("data") if isinstance(message, dict) else None
    summary = (
        " ".join(f"{k}={output.cell(v)}" for k, v in data.items())
        if isinstance(data, dict)
        else output.cell(data)
    )
    output.stdout.print(f"[bold]{message.get('type', '?')}[/bold] {summary}")


POSITION_COLUMNS = [
    Column("symbol", "symbol"),
    Column("side", "side"),
    Column("quantity", "quantity", "num"),
    Column("entry", "entry_price", "usd"),
    Column("mark", "mark_price", "usd"),
    Column("value", "market_value", "usd"),
    Column("unrealised", "unrealised_pnl", "usd"),
]


def portfolio(ctx: typer.Context) -> None:
    """Your paper portfolio: equity, P&L, exposure and open positions."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer4/portfolio", service=TIMING)

    def render(d: dict[str, Any]) -> None:
        output.fields({k: v for k, v in d.items() if k != "open_positions"}, title="Paper portfolio")
        output.table(d.get("open_positions", []), POSITION_COLUMNS, title="Open positions")

    output.show(data, current.as_json, render)


def performance(
    ctx: typer.Context, days: Annotated[int, typer.Option(min=1, max=365, help="period in days")] = 30
) -> None:
    """The signals' live track record over a period."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/layer4/performance", service=TIMING, params={"days": days})
    output.show(
        data, current.as_json, lambda d: output.fields(d) if isinstance(d, dict) else output.emit_json(d)
    )
