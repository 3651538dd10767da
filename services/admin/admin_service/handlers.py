"""Kafka handlers: the suggestion queue (``watchlist.suggestions.v1``), auth's user administration
into the audit log (``users.v1``), and the read models (``analysis.asset.v1``, ``cascade.runs.v1``).

Each handler runs inside the consumer's transaction that also claims the event id, so a replayed
event changes nothing; the suggestion insert is keyed by ``suggestion_id`` too, so the same
suggestion published twice under two event ids still makes one queue entry.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from admin_service import events
from admin_service.domain import SuggestionType
from admin_service.market import SYMBOL
from admin_service.settings import AdminSettings
from admin_service.storage import audit, read_models
from admin_service.storage import suggestions as store
from admin_service.storage.audit import Actor
from cp_common import topics
from cp_common.kafka import headers as kafka_headers
from cp_common.kafka.consumer import Event, Handler, PermanentError
from cp_common.proto_enums import from_proto
from cryptopredict.common.v1 import users_pb2
from cryptopredict.events.v1 import analysis_pb2, cascade_pb2, watchlists_pb2
from cryptopredict.events.v1 import users_pb2 as user_events_pb2

AUTH_SOURCE = "auth"


def _time(stamp: Timestamp, fallback: datetime | None = None) -> datetime | None:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return fallback
    return stamp.ToDatetime(tzinfo=UTC)


def _suggestion(
    message: watchlists_pb2.WatchlistSuggestionCreated, event: Event, ttl: timedelta
) -> store.NewSuggestion:
    try:
        suggestion_id = str(uuid.UUID(message.suggestion_id))
    except ValueError:
        raise PermanentError("suggestion_id is not a UUID") from None
    kind = SuggestionType.from_proto(message.suggestion_type)
    if kind is None:
        raise PermanentError("unknown suggestion_type")
    if not SYMBOL.match(message.symbol):
        raise PermanentError("symbol must be 1 to 20 upper-case letters or digits")
    if not (math.isfinite(message.confidence) and 0.0 <= message.confidence <= 1.0):
        raise PermanentError("confidence must be between 0 and 1")
    suggested_at = _time(message.suggested_at, event.timestamp) or event.timestamp
    return store.NewSuggestion(
        id=suggestion_id,
        symbol=message.symbol,
        suggestion_type=kind,
        confidence=message.confidence,
        ai_reasoning=message.ai_reasoning[:4000],
        supporting_data={k: v for k, v in message.supporting_data.items() if math.isfinite(v)},
        model_version=message.model_version[:100],
        cascade_run_id=message.cascade_run_id[:100],
        suggested_at=suggested_at,
        expires_at=suggested_at + ttl,
    )


def suggestion_handler(settings: AdminSettings) -> Handler:
    ttl = timedelta(seconds=settings.admin_suggestion_ttl_s)

    async def handle(event: Event, conn: asyncpg.Connection) -> None:
        new = _suggestion(event.message, event, ttl)
        if not await store.insert(conn, new):
            return
        if new.confidence > settings.admin_notify_confidence:
            await events.publish_high_confidence_suggestion(
                conn,
                suggestion_id=new.id,
                symbol=new.symbol,
                suggestion_type=new.suggestion_type,
                confidence=new.confidence,
            )

    return handle


def _role(value: int) -> str:
    return from_proto(users_pb2.Role, value, default="")


async def handle_user_changed(event: Event, conn: asyncpg.Connection) -> None:
    """An admin's action on an account (role change, deactivation...) becomes an audit entry;
    a user's own actions (registering) carry no actor and are not admin actions."""
    message: user_events_pb2.UserChanged = event.message
    if not message.actor_user_id:
        return
    try:
        uuid.UUID(message.actor_user_id)
    except ValueError:
        raise PermanentError("actor_user_id is not a UUID") from None
    kind = from_proto(user_events_pb2.UserChangeKind, message.kind, default="updated")
    await audit.record(
        conn,
        source=AUTH_SOURCE,
        actor=Actor(message.actor_user_id, message.actor_email, _role(message.actor_role)),
        action=f"user.{kind}",
        target_type="user",
        target_id=message.user_id,
        before={"role": _role(message.previous_role), "is_active": message.previous_is_active},
        after={"role": _role(message.role), "is_active": message.is_active, "email": message.email},
        request_id=event.headers.get(kafka_headers.REQUEST_ID, ""),
        occurred_at=_time(message.occurred_at, event.timestamp),
    )


async def handle_asset_scored(event: Event, conn: asyncpg.Connection) -> None:
    message: analysis_pb2.AssetScored = event.message
    if not SYMBOL.match(message.symbol):
        raise PermanentError("symbol must be 1 to 20 upper-case letters or digits")
    await read_models.upsert_asset_score(
        conn,
        symbol=message.symbol,
        ai_score=message.ai_score,
        confidence=message.confidence,
        recommendation=message.recommendation[:100],
        model_version=message.model_version[:100],
        analyzed_at=_time(message.analyzed_at, event.timestamp) or event.timestamp,
    )


async def handle_cascade_run(event: Event, conn: asyncpg.Connection) -> None:
    message: cascade_pb2.CascadeRunUpdated = event.message
    if not message.run_id:
        raise PermanentError("run_id is empty")
    await read_models.upsert_cascade_run(
        conn,
        {
            "run_id": message.run_id[:100],
            "status": from_proto(cascade_pb2.CascadeRunStatus, message.status, default="unknown"),
            "trigger": from_proto(cascade_pb2.CascadeTrigger, message.trigger, default="unknown"),
            "started_at": _time(message.started_at),
            "finished_at": _time(message.finished_at),
            "cascade_confidence": message.cascade_confidence,
            "signals_generated": message.signals_generated,
            "suggestions_created": message.suggestions_created,
        },
    )


def handlers(settings: AdminSettings) -> dict[str, Handler]:
    return {
        topics.WATCHLIST_SUGGESTIONS.name: suggestion_handler(settings),
        topics.USERS.name: handle_user_changed,
        topics.ANALYSIS_ASSET.name: handle_asset_scored,
        topics.CASCADE_RUNS.name: handle_cascade_run,
    }
