"""``/api/v1/layer4`` paper portfolio, executions, risk settings and the live performance record."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cp_common.http import ok
from layer4_timing_service import clock, paper
from layer4_timing_service.api import views
from layer4_timing_service.api.deps import Components, UserCaller
from layer4_timing_service.api.schemas import RiskSettingsIn
from layer4_timing_service.performance import performance
from layer4_timing_service.storage import bars, evidence
from layer4_timing_service.storage import paper as paper_store
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.paper import RiskSettings

router = APIRouter(prefix="/api/v1/layer4", tags=["layer4"])


@router.get("/portfolio")
async def portfolio(caller: UserCaller, components: Components) -> object:
    """Open positions marked to the latest daily close, realised and unrealised P&L, exposure."""
    async with components.pool.acquire() as conn:
        limits = await paper_store.risk_settings(conn, caller.user_id, components.risk_defaults)
        open_positions = await paper_store.for_user(conn, caller.user_id, status="open", limit=1000)
        marks = await bars.latest_closes(conn, sorted({e.symbol for e in open_positions}))
        realised = await paper_store.realised_total(conn, caller.user_id)
    positions = []
    for e in open_positions:
        mark = marks.get(e.symbol, e.entry_price)
        positions.append(
            {
                **views.execution(e),
                "mark_price": mark,
                "market_value": e.quantity * mark,
                "unrealised_pnl": paper.unrealised(e, mark),
            }
        )
    unrealised = sum(p["unrealised_pnl"] for p in positions)
    equity = limits.paper_equity + realised + unrealised
    gross = sum(p["market_value"] for p in positions)
    net = sum(p["market_value"] * (1 if p["side"] == "long" else -1) for p in positions)
    return ok(
        {
            "starting_equity": limits.paper_equity,
            "equity": equity,
            "realised_pnl": realised,
            "unrealised_pnl": unrealised,
            "gross_exposure": gross / equity if equity > 0 else None,
            "net_exposure": net / equity if equity > 0 else None,
            "open_positions": positions,
        }
    )


@router.get("/executions")
async def executions(
    caller: UserCaller,
    components: Components,
    status: Literal["open", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> object:
    """The caller's paper executions, newest first."""
    async with components.pool.acquire() as conn:
        rows = await paper_store.for_user(conn, caller.user_id, status=status, limit=limit)
    return ok({"executions": [views.execution(e) for e in rows], "count": len(rows)})


@router.get("/risk-settings")
async def get_risk_settings(caller: UserCaller, components: Components) -> object:
    async with components.pool.acquire() as conn:
        current = await paper_store.risk_settings(conn, caller.user_id, components.risk_defaults)
    return ok(current.__dict__)


@router.put("/risk-settings")
async def put_risk_settings(body: RiskSettingsIn, caller: UserCaller, components: Components) -> object:
    async with components.pool.acquire() as conn:
        saved = await paper_store.save_risk_settings(conn, caller.user_id, RiskSettings(**body.model_dump()))
    return ok(saved.__dict__)


@router.get("/performance")
async def live_performance(
    caller: UserCaller, components: Components, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> object:
    """The live record of signals closed in the last ``days``: win rate, average return, profit
    factor, by regime, symbol and voter."""
    async with components.pool.acquire() as conn:
        until = await clock.now(conn, components.settings.layer4_clock)
        closed = await store.closed_since(conn, until - timedelta(days=days))
        accuracy = await evidence.all_accuracy(conn)
    return ok(performance(closed, accuracy, days))
