"""Outgoing events, written to the outbox in the transaction of the change they describe:
``watchlist.changes.v1``, ``suggestions.reviews.v1`` and ``admin.notifications.v1``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from admin_service import SCHEMA
from admin_service.domain import Decision, SuggestionType, Tier
from cp_common import topics
from cp_common.kafka import outbox
from cryptopredict.common.v1 import watchlists_pb2 as common_pb2
from cryptopredict.events.v1 import admin_pb2
from cryptopredict.events.v1 import watchlists_pb2 as events_pb2


def _timestamp(at: datetime | None = None) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at or datetime.now(UTC))
    return stamp


def _tier(tier: Tier | None) -> common_pb2.WatchlistTier:
    return tier.proto if tier is not None else common_pb2.WATCHLIST_TIER_UNSPECIFIED


async def publish_watchlist_changed(
    conn: asyncpg.Connection,
    *,
    watchlist_id: int,
    kind: events_pb2.WatchlistChangeKind,
    actor_user_id: str | None,
    item_id: int | None = None,
    symbol: str = "",
    tier: Tier | None = None,
    previous_tier: Tier | None = None,
    suggestion_id: str = "",
    status: str = "",
) -> str:
    message = events_pb2.WatchlistChanged(
        change_id=str(uuid.uuid4()),
        watchlist_id=str(watchlist_id),
        kind=kind,
        item_id=str(item_id) if item_id is not None else "",
        symbol=symbol,
        tier=_tier(tier),
        previous_tier=_tier(previous_tier),
        actor_user_id=actor_user_id or "",
        suggestion_id=suggestion_id,
        changed_at=_timestamp(),
        status=status,
    )
    return await outbox.enqueue(conn, topics.WATCHLIST_CHANGES.name, message, schema=SCHEMA)


async def publish_suggestion_reviewed(
    conn: asyncpg.Connection,
    *,
    review_id: str,
    suggestion_id: str,
    symbol: str,
    suggestion_type: SuggestionType,
    decision: Decision,
    reviewer_user_id: str,
    reviewer_email: str,
    comment: str,
) -> str:
    message = events_pb2.SuggestionReviewed(
        review_id=review_id,
        suggestion_id=suggestion_id,
        symbol=symbol,
        suggestion_type=suggestion_type.proto,
        decision=decision.proto,
        reviewer_user_id=reviewer_user_id,
        reviewer_email=reviewer_email,
        comment=comment,
        reviewed_at=_timestamp(),
    )
    return await outbox.enqueue(conn, topics.SUGGESTION_REVIEWS.name, message, schema=SCHEMA)


async def publish_high_confidence_suggestion(
    conn: asyncpg.Connection,
    *,
    suggestion_id: str,
    symbol: str,
    suggestion_type: SuggestionType,
    confidence: float,
) -> str:
    readable = suggestion_type.value.replace("_", " ")
    message = admin_pb2.AdminNotificationRaised(
        notification_id=str(uuid.uuid4()),
        kind=admin_pb2.ADMIN_NOTIFICATION_KIND_HIGH_CONFIDENCE_SUGGESTION,
        title=f"{symbol}: {readable} (confidence {confidence:.2f})",
        raised_at=_timestamp(),
        suggestion_id=suggestion_id,
        symbol=symbol,
        suggestion_type=suggestion_type.proto,
        confidence=confidence,
    )
    return await outbox.enqueue(conn, topics.ADMIN_NOTIFICATIONS.name, message, schema=SCHEMA)
