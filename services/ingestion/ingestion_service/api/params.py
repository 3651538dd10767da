"""Query and path parameters of ``/api/v1/market``.

REST parameters are typed (``Annotated`` with ``Query``/``Path`` limits, ``Literal`` intervals),
so every bad value gets the same 422 envelope and the limits appear in OpenAPI. What a schema
cannot say (a range of two parameters, a moment outside the representable years) raises
:class:`~cp_common.errors.InvalidParameter` (422), here and for the gRPC API, which shares the
range and symbol checks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, get_args

import asyncpg
from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator

from cp_common.errors import InvalidParameter
from cp_market.importers.metadata import SECTORS
from ingestion_service import taxonomy
from ingestion_service.settings import STORED_INTERVALS
from ingestion_service.storage import snapshots as snapshot_store

#: The longest range one request may ask for (the seeds' history limit).
MAX_RANGE = timedelta(days=365)
#: Snapshot history without a range: this long up to the latest snapshot.
SNAPSHOT_WINDOW = timedelta(days=30)
MAX_LIMIT = 1000
MAX_ASSETS = 500
#: Moments a request may name (with :data:`MAX_RANGE` around them they stay representable).
MIN_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MOMENT = datetime(2100, 1, 1, tzinfo=UTC)
SYMBOL_PATTERN = r"^[A-Za-z0-9]{1,20}$"
_SYMBOL = re.compile(SYMBOL_PATTERN)

Interval = Literal["1h", "4h", "1d"]
if get_args(Interval) != STORED_INTERVALS:  # one list of intervals
    raise RuntimeError("Interval must list STORED_INTERVALS")


def symbol(value: str) -> str:
    if not _SYMBOL.match(value):
        raise InvalidParameter("symbol must be 1 to 20 letters or digits, e.g. BTC", field="path.symbol")
    return value.upper()


def symbols(values: list[str], *, max_items: int) -> list[str]:
    if not values:
        raise InvalidParameter("give at least one symbol", field="symbols")
    if len(values) > max_items:
        raise InvalidParameter(f"at most {max_items} symbols per request", field="symbols")
    return list(dict.fromkeys(symbol(v) for v in values))


def sector(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if taxonomy.known(value) is None:
        raise InvalidParameter(f"unknown sector {value[:40]!r}; see /api/v1/market/sectors", field="sector")
    return value


def _empty_is_none(value: object) -> object:
    """``sector=`` (what clients send for an unset value) means no filter."""
    return None if value == "" else value


def _known_sector(value: str | None) -> str | None:
    if value is not None and taxonomy.known(value) is None:
        raise ValueError("unknown sector; see /api/v1/market/sectors")
    return value


def _iso_only(value: object) -> object:
    """Pydantic reads a bare number as Unix seconds; ``20240131`` would silently be 1970."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("must be an ISO 8601 date or date-time, e.g. 2024-01-31T00:00:00Z")
    return value


def _bounded_utc(value: datetime) -> datetime | None:
    """``value`` in UTC (naive = UTC), or None outside ``[MIN_MOMENT, MAX_MOMENT]``."""
    try:
        stamp = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # an offset pushing 0001-01-01 or 9999-12-31 out of range
        return None
    return stamp if MIN_MOMENT <= stamp <= MAX_MOMENT else None


_OUT_OF_RANGE = f"must lie between {MIN_MOMENT.date()} and {MAX_MOMENT.date()}"


def in_range(value: datetime, name: str) -> datetime:
    stamp = _bounded_utc(value)
    if stamp is None:
        raise InvalidParameter(f"{name} {_OUT_OF_RANGE}", field=f"query.{name}")
    return stamp


def _utc_moment(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    stamp = _bounded_utc(value)
    if stamp is None:
        raise ValueError(_OUT_OF_RANGE)
    return stamp


_MOMENT_DOC = (
    f"ISO 8601 date or date-time (UTC without an offset), {MIN_MOMENT.date()} to {MAX_MOMENT.date()}"
)
Start = Annotated[
    datetime | None,
    Query(description=f"first open time, inclusive; {_MOMENT_DOC}"),
    BeforeValidator(_iso_only),
    AfterValidator(_utc_moment),
]
End = Annotated[
    datetime | None,
    Query(description=f"last open time, inclusive (at most 365 days after start); {_MOMENT_DOC}"),
    BeforeValidator(_iso_only),
    AfterValidator(_utc_moment),
]
Symbol = Annotated[
    str,
    Path(pattern=SYMBOL_PATTERN, description="asset symbol, case-insensitive, e.g. BTC", examples=["BTC"]),
]
Sector = Annotated[
    str | None,
    Query(
        description="only assets of this sector (see /api/v1/market/sectors)",
        json_schema_extra={"enum": list(SECTORS)},
    ),
    BeforeValidator(_empty_is_none),
    AfterValidator(_known_sector),
]
IntervalQuery = Annotated[Interval, Query(description="candle interval")]
CandleLimit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="the latest this many candles of the range")
]
AssetLimit = Annotated[int, Query(ge=1, le=MAX_ASSETS, description="at most this many assets")]
SnapshotLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many snapshots")]


def time_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """A range of at most :data:`MAX_RANGE`; an open side extends to that length (end: now)."""
    start = None if start is None else in_range(start, "start")
    end = None if end is None else in_range(end, "end")
    if start is not None and end is not None:
        if start > end:
            raise InvalidParameter("start must not be after end", field="query.end")
        if end - start > MAX_RANGE:
            raise InvalidParameter("the range from start to end must not exceed 365 days", field="query.end")
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
