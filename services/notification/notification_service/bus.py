"""The fan-out bus and replay buffer: one Redis stream that every replica reads.

Why a stream and not pub/sub, and why not every replica consuming Kafka itself: the Kafka
consumer group (shared by all replicas) handles each event once, idempotently, and appends one
entry per notice here; every replica then reads the whole stream (``XREAD``) and hands each
entry to its own connections. The stream gives all replicas ONE ordered sequence of ids, so a
client's "last event id" means the same thing on every replica: a client that reconnects to
another replica gets exactly the entries after its id (``XRANGE``), then live ones, with no gap
and no duplicate. Pub/sub has no history (replay would need a second store and a de-duplicating
merge), and per-replica Kafka consumption has per-partition offsets, not one sequence.

Appending is idempotent: a Lua script adds the entry only if the (event id, notice type) pair
was not seen before, so a Kafka redelivery never shows a client the same notice twice. The
stream is trimmed to about ``max_events`` entries (the bounded replay buffer).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from notification_service.notices import Notice

#: KEYS: stream, dedup key. ARGV: dedup TTL, max length, then field/value pairs.
_PUBLISH = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return false
"""

ZERO_ID = "0-0"
#: How long an (event id, type) pair is remembered: longer than any Kafka redelivery.
DEDUP_TTL_S = 7 * 86400


def id_key(entry_id: str) -> tuple[int, int]:
    """A stream id (``"<ms>-<seq>"``) as a sortable pair; raises ``ValueError`` if malformed."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def valid_id(entry_id: str) -> bool:
    try:
        ms, seq = id_key(entry_id)
    except ValueError:
        return False
    return ms >= 0 and seq >= 0 and len(entry_id) <= 41


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: the routing fields and the exact text clients receive."""

    id: str
    type: str
    audiences: frozenset[str]
    symbol: str | None
    confidence: float | None
    user_id: str | None
    wire: str
    #: ``id`` as a sortable pair (parsed once, compared by every connection).
    key: tuple[int, int]


def _text(fields: dict[bytes, bytes], name: bytes) -> str | None:
    value = fields.get(name)
    return value.decode() if value else None


def _entry(raw_id: bytes, fields: dict[bytes, bytes]) -> Entry:
    entry_id = raw_id.decode()
    kind = _text(fields, b"type") or "unknown"
    confidence = _text(fields, b"conf")
    key = id_key(entry_id)
    stamp = datetime.fromtimestamp(key[0] / 1000, UTC).isoformat().replace("+00:00", "Z")
    head = json.dumps(
        {"type": kind, "id": entry_id, "event_id": _text(fields, b"eid"), "timestamp": stamp},
        separators=(",", ":"),
    )
    # The data JSON was serialised once, by the publisher; it is spliced in, not re-encoded.
    wire = head[:-1] + ',"data":' + (_text(fields, b"data") or "null") + "}"
    return Entry(
        id=entry_id,
        type=kind,
        audiences=frozenset((_text(fields, b"aud") or "").split(",")),
        symbol=_text(fields, b"sym"),
        confidence=float(confidence) if confidence else None,
        user_id=_text(fields, b"uid"),
        wire=wire,
        key=key,
    )


class EventBus:
    def __init__(self, redis: aioredis.Redis, key: str, *, max_events: int) -> None:
        self._redis = redis
        self.key = key
        self._max_events = max_events
        self._publish = redis.register_script(_PUBLISH)

    async def publish(self, notice: Notice) -> str | None:
        """Append ``notice``; its stream id, or ``None`` if it was appended before."""
        fields = {
            "type": notice.type,
            "aud": ",".join(sorted(notice.audiences)),
            "eid": notice.event_id,
            "data": notice.data_json(),
            "sym": notice.symbol or "",
            "conf": "" if notice.confidence is None else repr(notice.confidence),
            "uid": notice.user_id or "",
        }
        args: list[str | int] = [DEDUP_TTL_S, self._max_events]
        for name, value in fields.items():
            args += [name, value]
        dedup = f"{self.key}:seen:{notice.event_id}:{notice.type}"
        added: bytes | None = await self._publish(keys=[self.key, dedup], args=args)
        return added.decode() if added else None

    async def head(self) -> str:
        """The id of the newest entry (``0-0`` for an empty stream)."""
        newest: Any = await self._redis.xrevrange(self.key, count=1)
        return newest[0][0].decode() if newest else ZERO_ID

    async def oldest(self) -> str | None:
        first: Any = await self._redis.xrange(self.key, count=1)
        return first[0][0].decode() if first else None

    async def read_after(self, last_id: str, *, block_ms: int, count: int = 500) -> list[Entry]:
        """Entries after ``last_id``, waiting up to ``block_ms`` for the first one."""
        answer: Any = await self._redis.xread({self.key: last_id}, count=count, block=block_ms)
        return [_entry(raw_id, fields) for _, items in answer or () for raw_id, fields in items]

    async def range_after(self, after_id: str, until_id: str, *, count: int) -> Sequence[Entry]:
        """Entries with ``after_id < id <= until_id`` (at most ``count``, oldest first)."""
        items: Any = await self._redis.xrange(self.key, min=f"({after_id}", max=until_id, count=count)
        return [_entry(raw_id, fields) for raw_id, fields in items]
