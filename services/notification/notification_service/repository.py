"""SQL of the notification schema: preferences, webhook endpoints and deliveries, the
active-signal read model and users' notices. Functions take a connection so callers decide the
transaction (the Kafka handlers run inside the consumer's idempotency transaction)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from notification_service.connection import Preferences

DEFAULT_PREFERENCES = Preferences()


# --- preferences --------------------------------------------------------------------------------


async def get_preferences(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> Preferences:
    row = await conn.fetchrow(
        "SELECT symbols, min_confidence, channels FROM preferences WHERE user_id = $1", user_id
    )
    if row is None:
        return DEFAULT_PREFERENCES
    return Preferences(frozenset(row["symbols"]), row["min_confidence"], frozenset(row["channels"]))


async def put_preferences(conn: asyncpg.Connection, user_id: str, prefs: Preferences) -> None:
    await conn.execute(
        "INSERT INTO preferences (user_id, symbols, min_confidence, channels) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_id) DO UPDATE SET symbols = EXCLUDED.symbols, "
        "min_confidence = EXCLUDED.min_confidence, channels = EXCLUDED.channels, updated_at = now()",
        user_id,
        sorted(prefs.symbols),
        prefs.min_confidence,
        sorted(prefs.channels),
    )


# --- active signals (the read model behind signals_init) ---------------------------------------


async def upsert_active_signal(
    conn: asyncpg.Connection,
    signal_id: str,
    symbol: str,
    confidence: float,
    data: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO active_signals (signal_id, symbol, confidence, data, generated_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (signal_id) DO UPDATE SET "
        "symbol = EXCLUDED.symbol, confidence = EXCLUDED.confidence, data = EXCLUDED.data",
        signal_id,
        symbol,
        confidence,
        json.dumps(data, default=str),
        at,
    )


async def remove_active_signal(conn: asyncpg.Connection, signal_id: str) -> None:
    await conn.execute("DELETE FROM active_signals WHERE signal_id = $1", signal_id)


async def active_signals(
    conn: asyncpg.Connection | asyncpg.Pool, *, symbol: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT data FROM active_signals WHERE ($1::text IS NULL OR symbol = $1) "
        "ORDER BY generated_at DESC LIMIT $2",
        symbol,
        limit,
    )
    return [json.loads(row["data"]) for row in rows]


# --- webhook endpoints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    id: uuid.UUID
    user_id: str
    url: str
    description: str
    enabled: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime

    def as_data(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "url": self.url,
            "description": self.description,
            "enabled": self.enabled,
            "consecutive_failures": self.consecutive_failures,
            "disabled_reason": self.disabled_reason,
            "created_at": self.created_at,
        }


_ENDPOINT_COLUMNS = (
    "id, user_id, url, description, enabled, consecutive_failures, disabled_reason, created_at"
)


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(**{key: row[key] for key in _ENDPOINT_COLUMNS.split(", ")})


async def create_endpoint(
    conn: asyncpg.Connection, user_id: str, url: str, description: str, secret: str
) -> Endpoint:
    row = await conn.fetchrow(
        f"INSERT INTO webhook_endpoints (id, user_id, url, description, secret) "  # noqa: S608
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {_ENDPOINT_COLUMNS}",
        uuid.uuid4(),
        user_id,
        url,
        description,
        secret,
    )
    return _endpoint(row)


async def count_endpoints(conn: asyncpg.Connection, user_id: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM webhook_endpoints WHERE user_id = $1", user_id))


async def list_endpoints(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> list[Endpoint]:
    rows = await conn.fetch(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 "  # noqa: S608
        "ORDER BY created_at",
        user_id,
    )
    return [_endpoint(row) for row in rows]


async def delete_endpoint(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, endpoint_id: uuid.UUID
) -> bool:
    result = await conn.execute(
        "DELETE FROM webhook_endpoints WHERE id = $1 AND user_id = $2", endpoint_id, user_id
    )
    return result.endswith(" 1")


async def enable_endpoint(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, endpoint_id: uuid.UUID
) -> Endpoint | None:
    row = await conn.fetchrow(
        "UPDATE webhook_endpoints SET enabled = true, consecutive_failures = 0, disabled_reason = NULL, "  # noqa: S608
        f"disabled_at = NULL WHERE id = $1 AND user_id = $2 RETURNING {_ENDPOINT_COLUMNS}",
        endpoint_id,
        user_id,
    )
    return _endpoint(row) if row else None


# --- deliveries ---------------------------------------------------------------------------------


#: The owner (``p``: their preferences row, if any) wants a signal on channel ``$6``: no row
#: (the defaults: every channel, symbol and confidence), or the channel among theirs, the symbol
#: ``$4`` among theirs (none: every symbol) and the confidence ``$5`` at least their minimum.
_WANTS_SIGNAL = """(p.user_id IS NULL OR (
        $6 = ANY (p.channels)
        AND (cardinality(p.symbols) = 0 OR $4 = ANY (p.symbols))
        AND $5 >= p.min_confidence))"""


@dataclass(frozen=True)
class SignalDelivery:
    """What the enqueueing of one signal event needs (the payload is the channel's own)."""

    event_id: str
    event_type: str
    symbol: str
    confidence: float


async def enqueue_signal_deliveries(
    conn: asyncpg.Connection, signal: SignalDelivery, payload: dict[str, Any]
) -> int:
    """One pending delivery per enabled endpoint whose owner wants this signal by webhook."""
    result = await conn.execute(
        f"""
        INSERT INTO webhook_deliveries (id, endpoint_id, user_id, event_id, event_type, payload)
        SELECT gen_random_uuid(), e.id, e.user_id, $1, $2, $3::jsonb
        FROM webhook_endpoints e
        LEFT JOIN preferences p ON p.user_id = e.user_id
        WHERE e.enabled AND {_WANTS_SIGNAL}
        ON CONFLICT (endpoint_id, event_id) DO NOTHING
        """,  # noqa: S608 - a constant fragment, values are parameters
        *_signal_params(signal, payload, "webhook"),
    )
    return int(result.split()[-1])


async def enqueue_push_deliveries(
    conn: asyncpg.Connection, signal: SignalDelivery, payload: dict[str, Any]
) -> int:
    """One pending web push delivery per unexpired subscription whose owner wants this signal
    by web push (the same preferences as webhooks, channel ``webpush``)."""
    result = await conn.execute(
        f"""
        INSERT INTO webhook_deliveries
            (id, channel, subscription_id, user_id, event_id, event_type, payload)
        SELECT gen_random_uuid(), 'webpush', s.id, s.user_id, $1, $2, $3::jsonb
        FROM push_subscriptions s
        LEFT JOIN preferences p ON p.user_id = s.user_id
        WHERE (s.expiration_time IS NULL OR s.expiration_time > now()) AND {_WANTS_SIGNAL}
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        """,  # noqa: S608 - a constant fragment, values are parameters
        *_signal_params(signal, payload, "webpush"),
    )
    return int(result.split()[-1])


def _signal_params(signal: SignalDelivery, payload: dict[str, Any], channel: str) -> tuple[Any, ...]:
    return (
        uuid.UUID(signal.event_id),
        signal.event_type,
        json.dumps(payload, default=str),
        signal.symbol,
        signal.confidence,
        channel,
    )


@dataclass(frozen=True)
class PushKeys:
    """The browser's keys of a push subscription (base64url)."""

    subscription_id: uuid.UUID
    p256dh: str
    auth: str


@dataclass(frozen=True)
class DueDelivery:
    id: uuid.UUID
    #: The webhook endpoint (``None`` for a web push delivery).
    endpoint_id: uuid.UUID | None
    user_id: str
    #: The webhook URL or the push subscription's endpoint.
    url: str
    #: The webhook signing secret (empty for web push).
    secret: str
    event_id: uuid.UUID
    event_type: str
    body: bytes
    attempts: int
    #: The subscription's keys, for a web push delivery.
    push: PushKeys | None = None


async def claim_due_deliveries(pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[DueDelivery]:
    """Due deliveries, leased to this replica for ``lease_s`` (no two replicas send one).
    Deliveries of a disabled endpoint stay pending until it is enabled again."""
    rows = await pool.fetch(
        """
        UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $2)
        FROM webhook_endpoints e
        WHERE d.id IN (
            SELECT due.id FROM webhook_deliveries due
            JOIN webhook_endpoints owner ON owner.id = due.endpoint_id AND owner.enabled
            WHERE due.status = 'pending' AND due.next_attempt_at <= now()
              AND (due.locked_until IS NULL OR due.locked_until < now())
            ORDER BY due.next_attempt_at LIMIT $1 FOR UPDATE OF due SKIP LOCKED)
          AND e.id = d.endpoint_id
        RETURNING d.id, d.endpoint_id, d.user_id, e.url, e.secret, d.event_id, d.event_type,
                  d.payload::text AS body, d.attempts
        """,
        limit,
        lease_s,
    )
    return [
        DueDelivery(
            id=row["id"],
            endpoint_id=row["endpoint_id"],
            user_id=row["user_id"],
            url=row["url"],
            secret=row["secret"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            body=row["body"].encode(),
            attempts=row["attempts"],
        )
        for row in rows
    ]


async def claim_due_push_deliveries(pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[DueDelivery]:
    """Due web push deliveries, leased to this replica for ``lease_s`` (as webhooks')."""
    rows = await pool.fetch(
        """
        UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $2)
        FROM push_subscriptions s
        WHERE d.id IN (
            SELECT due.id FROM webhook_deliveries due
            WHERE due.channel = 'webpush' AND due.subscription_id IS NOT NULL
              AND due.status = 'pending' AND due.next_attempt_at <= now()
              AND (due.locked_until IS NULL OR due.locked_until < now())
            ORDER BY due.next_attempt_at LIMIT $1 FOR UPDATE OF due SKIP LOCKED)
          AND s.id = d.subscription_id
        RETURNING d.id, d.subscription_id, d.user_id, s.endpoint, s.p256dh, s.auth, d.event_id,
                  d.event_type, d.payload::text AS body, d.attempts
        """,
        limit,
        lease_s,
    )
    return [
        DueDelivery(
            id=row["id"],
            endpoint_id=None,
            user_id=row["user_id"],
            url=row["endpoint"],
            secret="",
            event_id=row["event_id"],
            event_type=row["event_type"],
            body=row["body"].encode(),
            attempts=row["attempts"],
            push=PushKeys(row["subscription_id"], row["p256dh"], row["auth"]),
        )
        for row in rows
    ]


async def record_attempt(
    conn: asyncpg.Connection,
    delivery_id: uuid.UUID,
    attempt: int,
    status_code: int | None,
    error: str | None,
    duration_ms: float,
) -> None:
    await conn.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        delivery_id,
        attempt,
        status_code,
        error,
        duration_ms,
    )


async def mark_delivered(conn: asyncpg.Connection, delivery: DueDelivery, status_code: int) -> None:
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'delivered', attempts = $2, last_status = $3, "
        "last_error = NULL, finished_at = now(), locked_until = NULL WHERE id = $1",
        delivery.id,
        delivery.attempts + 1,
        status_code,
    )
    await conn.execute(
        "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1", delivery.endpoint_id
    )


async def mark_retry(
    conn: asyncpg.Connection, delivery: DueDelivery, status_code: int | None, error: str, delay_s: float
) -> None:
    await conn.execute(
        "UPDATE webhook_deliveries SET attempts = $2, last_status = $3, last_error = $4, "
        "next_attempt_at = now() + make_interval(secs => $5), locked_until = NULL WHERE id = $1",
        delivery.id,
        delivery.attempts + 1,
        status_code,
        error,
        delay_s,
    )


async def mark_dead(
    conn: asyncpg.Connection, delivery: DueDelivery, status_code: int | None, error: str
) -> int:
    """Move the delivery to the dead letter; the endpoint's dead-lettered deliveries in a row."""
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'dead', attempts = $2, last_status = $3, "
        "last_error = $4, finished_at = now(), locked_until = NULL WHERE id = $1",
        delivery.id,
        delivery.attempts + 1,
        status_code,
        error,
    )
    return int(
        await conn.fetchval(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 "
            "WHERE id = $1 RETURNING consecutive_failures",
            delivery.endpoint_id,
        )
        or 0
    )


async def disable_endpoint(conn: asyncpg.Connection, endpoint_id: uuid.UUID, reason: str) -> bool:
    result = await conn.execute(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now() "
        "WHERE id = $1 AND enabled",
        endpoint_id,
        reason,
    )
    return result.endswith(" 1")


async def list_deliveries(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, *, status: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT id, channel, endpoint_id, subscription_id, event_id, event_type, status, attempts,
               last_status, last_error, next_attempt_at, created_at, finished_at
        FROM webhook_deliveries WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC LIMIT $3
        """,
        user_id,
        status,
        limit,
    )
    return [
        {
            **dict(row),
            "id": str(row["id"]),
            "endpoint_id": _text(row["endpoint_id"]),
            "subscription_id": _text(row["subscription_id"]),
            "event_id": str(row["event_id"]),
        }
        for row in rows
    ]


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


# --- push subscriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class PushSubscription:
    id: uuid.UUID
    user_id: str
    endpoint: str
    expiration_time: datetime | None
    created_at: datetime

    def as_data(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "endpoint": self.endpoint,
            "expiration_time": self.expiration_time,
            "created_at": self.created_at,
        }


_SUBSCRIPTION_COLUMNS = "id, user_id, endpoint, expiration_time, created_at"


def _subscription(row: asyncpg.Record) -> PushSubscription:
    return PushSubscription(**{key: row[key] for key in _SUBSCRIPTION_COLUMNS.split(", ")})


async def save_push_subscription(
    conn: asyncpg.Connection,
    user_id: str,
    endpoint: str,
    keys: tuple[str, str],
    expiration_time: datetime | None,
) -> PushSubscription:
    """Store (or, for a known endpoint, replace: the browser re-subscribed, maybe for another
    user) a subscription; ``keys`` is ``(p256dh, auth)``."""
    row = await conn.fetchrow(
        "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, expiration_time) "  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET "
        "user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, "
        f"expiration_time = EXCLUDED.expiration_time, updated_at = now() RETURNING {_SUBSCRIPTION_COLUMNS}",
        uuid.uuid4(),
        user_id,
        endpoint,
        keys[0],
        keys[1],
        expiration_time,
    )
    return _subscription(row)


async def count_other_push_subscriptions(conn: asyncpg.Connection, user_id: str, endpoint: str) -> int:
    """The user's subscriptions other than ``endpoint`` (re-subscribing is not one more)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM push_subscriptions WHERE user_id = $1 AND endpoint <> $2",
            user_id,
            endpoint,
        )
    )


async def list_push_subscriptions(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str
) -> list[PushSubscription]:
    rows = await conn.fetch(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 "  # noqa: S608
        "ORDER BY created_at",
        user_id,
    )
    return [_subscription(row) for row in rows]


async def remove_push_subscription(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, *, user_id: str | None = None, reason: str
) -> bool:
    """Delete a subscription (only if it is ``user_id``'s, when given); its pending deliveries
    move to the dead letter with ``reason``, its past ones keep their history."""
    found = await conn.fetchval(
        "SELECT id FROM push_subscriptions WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) FOR UPDATE",
        subscription_id,
        user_id,
    )
    if found is None:
        return False
    await conn.execute(
        "UPDATE webhook_deliveries SET status = 'dead', last_error = $2, finished_at = now(), "
        "locked_until = NULL WHERE subscription_id = $1 AND status = 'pending'",
        subscription_id,
        reason,
    )
    await conn.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)
    return True


# --- notices ------------------------------------------------------------------------------------


async def add_notice(
    conn: asyncpg.Connection, user_id: str, kind: str, message: str, data: dict[str, Any]
) -> uuid.UUID:
    notice_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO notices (id, user_id, kind, message, data) VALUES ($1, $2, $3, $4, $5::jsonb)",
        notice_id,
        user_id,
        kind,
        message,
        json.dumps(data, default=str),
    )
    return notice_id


async def list_notices(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, *, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, kind, message, data, created_at FROM notices WHERE user_id = $1 "
        "ORDER BY created_at DESC LIMIT $2",
        user_id,
        limit,
    )
    return [{**dict(row), "id": str(row["id"]), "data": json.loads(row["data"])} for row in rows]
