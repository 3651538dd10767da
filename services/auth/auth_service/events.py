"""``users.v1`` events, written to the outbox in the transaction of the change they describe."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from auth_service import SCHEMA
from auth_service.domain.models import User
from cp_common import topics
from cp_common.kafka import outbox
from cp_common.proto_enums import to_proto
from cp_common.security import Principal
from cryptopredict.common.v1 import users_pb2
from cryptopredict.events.v1 import users_pb2 as user_events_pb2


class UserChange(StrEnum):
    REGISTERED = "registered"
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


def user_changed(
    user: User,
    change: UserChange,
    *,
    at: datetime | None = None,
    actor: Principal | None = None,
    before: User | None = None,
) -> user_events_pb2.UserChanged:
    """``actor`` and ``before``: the admin who made the change and the account before it (the
    admin service's audit log records both)."""
    occurred_at = Timestamp()
    occurred_at.FromDatetime(at or datetime.now(UTC))
    message = user_events_pb2.UserChanged(
        user_id=user.id,
        kind=to_proto(user_events_pb2.UserChangeKind, change.value),
        email=user.email,
        role=to_proto(users_pb2.Role, user.role.value),
        is_active=user.is_active,
        occurred_at=occurred_at,
    )
    if actor is not None:
        message.actor_user_id = actor.user_id
        message.actor_email = actor.email
        message.actor_role = to_proto(users_pb2.Role, actor.role.value)
    if before is not None:
        message.previous_role = to_proto(users_pb2.Role, before.role.value)
        message.previous_is_active = before.is_active
    return message


async def publish_user_changed(
    conn: asyncpg.Connection,
    user: User,
    change: UserChange,
    *,
    actor: Principal | None = None,
    before: User | None = None,
) -> str:
    """Enqueue the event inside ``conn``'s transaction; returns its event id."""
    message = user_changed(user, change, actor=actor, before=before)
    return await outbox.enqueue(conn, topics.USERS.name, message, schema=SCHEMA)
