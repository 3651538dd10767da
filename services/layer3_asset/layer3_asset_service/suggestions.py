"""Watchlist suggestions, de-duplicated: an open suggestion is not proposed again every run.

``open_suggestions`` holds one row per (symbol, suggestion type) that was published and not yet
approved or rejected (``suggestions.reviews.v1``) nor older than
``LAYER3_SUGGESTION_REOPEN_DAYS``. Inside the transaction that stores a run's result, each
suggestion either opens a row (published on ``watchlist.suggestions.v1``) or finds one (kept
in the result with ``published = false`` and the open suggestion's id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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


#: Opens a row for every suggestion that has none, in one statement; for each suggestion its
#: id (new or the open one's) and whether it was opened now. The outer SELECT does not see the
#: CTE's inserts, so a new row is found through ``opened`` and an existing one through ``open``.
OPEN_ALL = """
WITH wanted AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::float8[]) AS w(symbol, suggestion_type, confidence)
), opened AS (
    INSERT INTO open_suggestions (symbol, suggestion_type, suggestion_id, confidence)
    SELECT symbol, suggestion_type, gen_random_uuid(), confidence FROM wanted
    ON CONFLICT (symbol, suggestion_type) DO NOTHING
    RETURNING symbol, suggestion_type, suggestion_id
)
SELECT w.symbol, w.suggestion_type, coalesce(n.suggestion_id, o.suggestion_id) AS suggestion_id,
       n.suggestion_id IS NOT NULL AS is_new
FROM wanted w
LEFT JOIN opened n USING (symbol, suggestion_type)
LEFT JOIN open_suggestions o USING (symbol, suggestion_type)
"""


async def open_suggestions(
    conn: asyncpg.Connection, suggestions: Sequence[asset_pb2.WatchlistSuggestion]
) -> dict[tuple[str, int], tuple[str, bool]]:
    """(symbol, type) -> (suggestion id, opened now) for every suggestion."""
    rows = await conn.fetch(
        OPEN_ALL,
        [s.symbol for s in suggestions],
        [s.suggestion_type for s in suggestions],
        [s.confidence for s in suggestions],
    )
    return {(r["symbol"], r["suggestion_type"]): (str(r["suggestion_id"]), r["is_new"]) for r in rows}


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
        opened = await open_suggestions(conn, response.analysis.suggestions)
        for suggestion in response.analysis.suggestions:
            suggestion.suggestion_id, suggestion.published = opened[
                (suggestion.symbol, suggestion.suggestion_type)
            ]
            if suggestion.published:
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
