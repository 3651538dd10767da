"""Query and path parameters, checked with clear 400 messages (the envelope's ``error``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pandas as pd

from cp_common.errors import BadRequest
from ingestion_service import taxonomy
from ingestion_service.settings import STORED_INTERVALS
from ingestion_service.storage import snapshots as snapshot_store

#: The longest range one request may ask for (the seeds' history limit).
MAX_RANGE = timedelta(days=365)
#: Snapshot history without a range: this long up to the latest snapshot.
SNAPSHOT_WINDOW = timedelta(days=30)
MAX_LIMIT = 1000
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,20}$")


def symbol(value: str) -> str:
    if not _SYMBOL.match(value):
        raise BadRequest("symbol must be 1 to 20 letters or digits, e.g. BTC")
    return value.upper()


def symbols(values: list[str], *, max_items: int) -> list[str]:
    if not values:
        raise BadRequest("give at least one symbol")
    if len(values) > max_items:
        raise BadRequest(f"at most {max_items} symbols per request")
    return list(dict.fromkeys(symbol(v) for v in values))


def interval(value: str) -> str:
    if value not in STORED_INTERVALS:
        raise BadRequest(f"interval must be one of {', '.join(STORED_INTERVALS)}")
    return value


def sector(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if taxonomy.known(value) is None:
        raise BadRequest(f"unknown sector {value[:40]!r}; see /api/v1/market/sectors")
    return value


def limit(value: int | None, *, default: int, maximum: int = MAX_LIMIT) -> int:
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise BadRequest(f"limit must be between 1 and {maximum}")
    return value


def moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date-time (naive = UTC)."""
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise BadRequest(f"{name} must be an ISO 8601 date or date-time, e.g. 2024-01-31T00:00:00Z") from None
    if stamp is pd.NaT:
        raise BadRequest(f"{name} must be an ISO 8601 date or date-time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def time_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """A range of at most :data:`MAX_RANGE`; an open side extends to that length (end: now)."""
    if start is not None and end is not None:
        if start > end:
            raise BadRequest("start must not be after end")
        if end - start > MAX_RANGE:
            raise BadRequest("the range from start to end must not exceed 365 days")
        return start, end
    if start is not None:
        return start, start + MAX_RANGE
    if end is not None:
        return end - MAX_RANGE, end
    return datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)


async def snapshot_range(
    db: asyncpg.Pool, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """:func:`time_range`; without either side, the :data:`SNAPSHOT_WINDOW` up to the latest snapshot."""
    if start is None and end is None:
        latest = await snapshot_store.latest_snapshot(db)
        if latest is not None:
            end = latest["taken_at"]
            start = end - SNAPSHOT_WINDOW
    return time_range(start, end)
