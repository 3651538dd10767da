"""``/api/v1/layer3/suggestions``: the review queue of Layer 3's suggestions, admins only.
Seed defaults: ``status=pending``, ``confidence_min=0.7``, ``limit=50``; limits per admin and
60 s: list 100, review 50."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from admin_service.api.deps import admin_only, limited, reviews
from admin_service.api.schemas import SuggestionReview
from admin_service.domain import SuggestionStatus
from admin_service.reviews import Reviews
from cp_common.http import ok
from cp_common.http.openapi import error_responses
from cp_common.security import Principal

router = APIRouter(prefix="/api/v1/layer3/suggestions", tags=["suggestions"])

Flows = Annotated[Reviews, Depends(reviews)]


@router.get("", responses=error_responses(429))
async def list_suggestions(
    _: Annotated[Principal, Depends(limited("suggestions", 100, admin_only))],
    flows: Flows,
    status: SuggestionStatus = SuggestionStatus.PENDING,
    confidence_min: Annotated[float, Query(ge=0, le=1)] = 0.7,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> object:
    items = await flows.queue(status=status, confidence_min=confidence_min, limit=limit)
    return ok(
        {
            "suggestions": items,
            "total_suggestions": len(items),
            "filters": {"status": status.value, "min_confidence": confidence_min},
        }
    )


@router.post("/{suggestion_id}/review", responses=error_responses(409, 429))
async def review_suggestion(
    suggestion_id: uuid.UUID,
    body: SuggestionReview,
    admin: Annotated[Principal, Depends(limited("suggestion-review", 50, admin_only))],
    flows: Flows,
) -> object:
    """Approve (the watchlist change is applied at once), reject or defer."""
    result = await flows.review(admin, str(suggestion_id), body.decision, body.note)
    return ok({**result, "reviewer": admin.email, "decision": body.decision.value})
