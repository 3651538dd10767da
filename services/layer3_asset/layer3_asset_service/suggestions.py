"""Watchlist suggestions, de-duplicated: an open suggestion is not proposed again every run.

``open_suggestions`` holds one row per (symbol, suggestion type) that was published and not yet
approved or rejected (``suggestions.reviews.v1``) nor older than
``LAYER3_SUGGESTION_REOPEN_DAYS``. Inside the transaction that stores a run's result, each
suggestion either opens a row (published on ``watchlist.suggestions.v1``) or finds one (kept
in the result with ``published = false`` and the open suggestion's id).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from cp_common import topics
from cp_common.kafka.consumer import Event
from cp_common.proto_enums import from_proto
from cp_layer_kit.results import Finalize, PendingResult
from cryptopredict.analysis.v1 import asset_pb2
from cryptopredict.common.v1 import watchlists_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events

CLOSING_DECISIONS = (watchlists_pb2.REVIEW_DECISION_APPROVE, watchlists_pb2.REVIEW_DECISION_REJECT)


async def _open(conn: asyncpg.Connection, suggestion: asset_pb2.WatchlistSuggestion) -> str | None:
    """Open a row for ``suggestion``; its new id, or None when one is open already."""
    suggestion_id = await conn.fetchval(
        """
        INSERT INTO open_suggestions (symbol, suggestion_type, suggestion_id, confidence)
        VALUES ($1, $2, $3, $4) ON CONFLICT (symbol, suggestion_type) DO NOTHING RETURNING suggestion_id
        """,
        suggestion.symbol,
        suggestion.suggestion_type,
        uuid.uuid4(),
        suggestion.confidence,
    )
    return str(suggestion_id) if suggestion_id else None


async def _existing(conn: asyncpg.Connection, suggestion: asset_pb2.WatchlistSuggestion) -> str:
    value = await conn.fetchval(
        "SELECT suggestion_id FROM open_suggestions WHERE symbol = $1 AND suggestion_type = $2",
        suggestion.symbol,
        suggestion.suggestion_type,
    )
    return str(value)


def _event(
    pending: PendingResult, suggestion: asset_pb2.WatchlistSuggestion
) -> events.WatchlistSuggestionCreated:
    event = events.WatchlistSuggestionCreated(
        suggestion_id=suggestion.suggestion_id,
        symbol=suggestion.symbol,
        suggestion_type=suggestion.suggestion_type,
        confidence=suggestion.confidence,
        ai_reasoning=suggestion.reasoning,
        supporting_data=dict(suggestion.supporting_data),
        model_version=pending.model_version,
        cascade_run_id=pending.cascade_run_id,
    )
    event.suggested_at.GetCurrentTime()
    return event


def deduplicate(reopen_after: timedelta) -> Finalize:
    async def finalize(conn: asyncpg.Connection, pending: PendingResult) -> None:
        await conn.execute(
            "DELETE FROM open_suggestions WHERE opened_at < now() - $1::interval", reopen_after
        )
        response = pending.response
        if not isinstance(response, asset_pb2.SelectAssetsResponse):
            raise TypeError("Layer 3 stores SelectAssetsResponse")
        published = []
        for suggestion in response.analysis.suggestions:
            new_id = await _open(conn, suggestion)
            suggestion.published = new_id is not None
            suggestion.suggestion_id = new_id or await _existing(conn, suggestion)
            if new_id is not None:
                published.append(_event(pending, suggestion))
        by_key = {
            (s.symbol, from_proto(watchlists_pb2.SuggestionType, s.suggestion_type)): s
            for s in response.analysis.suggestions
        }
        for item in pending.view["suggestions"]:
            match = by_key[(item["symbol"], item["type"])]
            item["suggestion_id"], item["published"] = match.suggestion_id, match.published
        pending.events.append((topics.WATCHLIST_SUGGESTIONS, published))

    return finalize


async def on_review(event: Event, conn: asyncpg.Connection) -> None:
    """An approved or rejected suggestion is closed (a later run may propose it again)."""
    review: events.SuggestionReviewed = event.message
    if review.decision in CLOSING_DECISIONS and review.suggestion_id:
        try:
            suggestion_id = uuid.UUID(review.suggestion_id)
        except ValueError:
            return
        await conn.execute("DELETE FROM open_suggestions WHERE suggestion_id = $1", suggestion_id)
