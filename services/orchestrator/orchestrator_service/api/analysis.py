"""``/api/v1/analysis``: run a full or quick cascade, list runs, read one run."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cp_common.errors import NotFound
from cp_common.http import ok
from cp_common.security import Principal, current_principal
from orchestrator_service.api import views
from orchestrator_service.api.deps import components
from orchestrator_service.components import Components
from orchestrator_service.requests import cascade_request
from orchestrator_service.storage import runs

router = APIRouter(prefix="/api/v1/analysis", tags=["analysis"])

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
RunId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class AnalysisBody(BaseModel):
    """Seed body ``{"symbols": [...], "user_type": "professional"}``; ``run_id`` retries a run."""

    model_config = ConfigDict(extra="forbid")

    symbols: list[Symbol] = Field(default_factory=list, max_length=1000)
    user_type: Literal["professional", "casual", "admin"] | None = None
    run_id: RunId | None = None


async def _run(parts: Components, body: AnalysisBody, mode: str) -> dict[str, Any]:
    request = cascade_request(
        symbols=list(body.symbols),
        mode=mode,
        run_id=body.run_id,
        max_symbols=parts.settings.orchestrator_max_symbols,
    )
    await parts.cascade.run(request)
    row = await runs.get(parts.pool, request.run_id)
    if row is None:  # the run row is written before any layer is called
        raise NotFound(f"run {request.run_id} not found")
    return views.run_detail(row)


@router.post("/full")
async def full_analysis(
    body: AnalysisBody,
    _: Annotated[Principal, Depends(current_principal)],
    parts: Annotated[Components, Depends(components)],
) -> object:
    """All four layers; symbols default to the watchlists. 503 "Layer N service unavailable"
    when a layer fails with no fresh fallback."""
    return ok(await _run(parts, body, "full"))


@router.post("/quick")
async def quick_analysis(
    body: AnalysisBody,
    _: Annotated[Principal, Depends(current_principal)],
    parts: Annotated[Components, Depends(components)],
) -> object:
    """Reuses fresh Layer 1 and 2 results and runs Layers 3 and 4 for the given symbols."""
    return ok(await _run(parts, body, "quick"))


@router.get("/runs")
async def list_runs(
    _: Annotated[Principal, Depends(current_principal)],
    parts: Annotated[Components, Depends(components)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Annotated[Literal["running", "succeeded", "degraded", "failed"] | None, Query()] = None,
) -> object:
    rows = await runs.recent(parts.pool, limit=limit, status=status)
    return ok({"runs": [views.run_summary(r) for r in rows]})


@router.get("/runs/{run_id}")
async def get_run(
    run_id: Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")],
    _: Annotated[Principal, Depends(current_principal)],
    parts: Annotated[Components, Depends(components)],
) -> object:
    row = await runs.get(parts.pool, run_id)
    if row is None:
        raise NotFound(f"run {run_id} not found")
    return ok(views.run_detail(row))
