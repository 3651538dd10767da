"""Writing candles: columnar rows, COPY into a staging table, one upsert into ``candles``.

Large batches (``COPY_THRESHOLD`` rows or more) are streamed with binary ``COPY``: straight into
``candles`` when no stored candle falls inside the batch's time span of any of its series (a
fresh backfill; three times faster), otherwise into a session-local temporary table merged with
one ``INSERT ... SELECT ... ON CONFLICT``. Small batches (a live candle) skip the staging table
and upsert straight from ``unnest`` arrays. The merge statement:

* inserts new keys ``(symbol, interval, open_time)``;
* updates an existing row only when a value differs AND the incoming source ranks at least as
  high as the stored one (``SOURCE_PRIORITY``: a Yahoo re-import never overwrites Binance);
* leaves identical rows untouched (no write, ``updated_at`` kept), so a re-run changes nothing;
* returns the counts and the keys that were inserted and closed after ``publish_after``, the
  candles that get a ``market.candles.v1`` event.

NaN quote volume / market cap become NULL. Rows must be unique per key (the validation step
guarantees it; :meth:`CandleRows.deduplicated` is the last line of defence).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

import asyncpg
import pandas as pd

from cp_market.candles import INTERVALS, Candle
from cp_market.dataset import SOURCE_PRIORITY

COLUMNS: tuple[str, ...] = (
    "symbol",
    "interval",
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "market_cap",
    "quote",
    "source",
    "quality_flags",
)
_PG_TYPES = ("text", "text", "timestamptz", *["float8"] * 7, "text", "text", "text")
_VALUE_COLUMNS = COLUMNS[3:]
#: Batches at least this large go through COPY; smaller ones through unnest arrays.
COPY_THRESHOLD = 500
STAGING_TABLE = "candle_staging"

Key = tuple[str, str, datetime]


@dataclass
class CandleRows:
    """Candles as columns (the shape COPY and ``unnest`` want), in :data:`COLUMNS` order."""

    columns: dict[str, list] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    def __len__(self) -> int:
        return len(self.columns["symbol"])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CandleRows:
        """From a canonical candle frame (closed candles)."""
        columns: dict[str, list] = {}
        for name in COLUMNS:
            if name == "open_time":
                columns[name] = list(frame["open_time"].array.to_pydatetime())
            else:
                columns[name] = frame[name].tolist()
        return cls(columns)

    @classmethod
    def from_candles(cls, candles: Sequence[Candle]) -> CandleRows:
        rows = cls()
        for candle in candles:
            rows.append(candle)
        return rows

    def append(self, candle: Candle) -> None:
        values = (
            candle.symbol,
            candle.interval,
            candle.open_time,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            candle.volume,
            candle.quote_volume,
            candle.market_cap,
            candle.quote,
            candle.source,
            "|".join(candle.quality_flags),
        )
        for name, value in zip(COLUMNS, values, strict=True):
            self.columns[name].append(value)

    def key(self, i: int) -> Key:
        c = self.columns
        return c["symbol"][i], c["interval"][i], c["open_time"][i]

    def chunks(self, size: int) -> list[CandleRows]:
        """Pieces of about ``size`` rows that never split a symbol (rows grouped by symbol), so
        chunks written concurrently never touch one symbol's events out of order."""
        symbols = self.columns["symbol"]
        bounds = [0]
        for i in range(1, len(symbols)):
            if symbols[i] != symbols[i - 1] and i - bounds[-1] >= size:
                bounds.append(i)
        bounds.append(len(symbols))
        return [
            CandleRows({name: values[a:b] for name, values in self.columns.items()})
            for a, b in pairwise(bounds)
            if b > a
        ]

    def deduplicated(self) -> CandleRows:
        """Last row per key wins (a batch must not touch one key twice)."""
        last: dict[Key, int] = {self.key(i): i for i in range(len(self))}
        if len(last) == len(self):
            return self
        keep = sorted(last.values())
        return CandleRows({name: [values[i] for i in keep] for name, values in self.columns.items()})

    def candle(self, i: int) -> Candle:
        c = self.columns
        flags = tuple(f for f in str(c["quality_flags"][i]).split("|") if f)
        return Candle(
            symbol=c["symbol"][i],
            interval=c["interval"][i],
            open_time=c["open_time"][i],
            open=c["open"][i],
            high=c["high"][i],
            low=c["low"][i],
            close=c["close"][i],
            volume=c["volume"][i],
            quote_volume=_float(c["quote_volume"][i]),
            market_cap=_float(c["market_cap"][i]),
            quote=c["quote"][i],
            source=c["source"][i],
            quality_flags=flags,
        )

    def records(self) -> list[tuple]:
        return list(zip(*(self.columns[name] for name in COLUMNS), strict=True))


def _float(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


OUTCOMES = ("inserted", "updated", "unchanged")


@dataclass(frozen=True)
class UpsertOutcome:
    #: interval -> {"inserted": n, "updated": n, "unchanged": n}
    counts: dict[str, dict[str, int]]
    #: Keys inserted by this call whose candle closed after ``publish_after``.
    new_live_keys: list[Key]

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())

    @property
    def inserted(self) -> int:
        return self.total("inserted")

    @property
    def updated(self) -> int:
        return self.total("updated")

    @property
    def unchanged(self) -> int:
        return self.total("unchanged")


def interval_length_sql(column: str = "interval") -> str:
    """SQL: the length of one candle of the interval named in ``column``."""
    cases = " ".join(
        f"WHEN '{name}' THEN interval '{int(step.total_seconds())} seconds'"
        for name, step in INTERVALS.items()
    )
    return f"CASE {column} {cases} END"


def _upsert_sql(row_source: str) -> str:
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLUMNS)
    stored = ", ".join(f"c.{c}" for c in _VALUE_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in _VALUE_COLUMNS)
    select = ", ".join(
        f"NULLIF(s.{c}, 'NaN')" if c in ("quote_volume", "market_cap") else f"s.{c}" for c in COLUMNS
    )
    rank = "coalesce(array_position($1::text[], {}.source), 2147483647)"
    return f"""
        WITH upserted AS (
            INSERT INTO candles AS c ({", ".join(COLUMNS)})
            SELECT {select} FROM {row_source}
            ON CONFLICT (symbol, interval, open_time) DO UPDATE SET {assignments}, updated_at = now()
            WHERE {rank.format("EXCLUDED")} <= {rank.format("c")}
              AND ({stored}) IS DISTINCT FROM ({incoming})
            RETURNING c.symbol, c.interval, c.open_time, (c.xmax = 0) AS inserted,
                      c.open_time + {interval_length_sql("c.interval")} AS close_time
        )
        SELECT interval,
               count(*) FILTER (WHERE inserted) AS inserted,
               count(*) FILTER (WHERE NOT inserted) AS updated,
               array_agg(symbol) FILTER (WHERE inserted AND close_time > $2) AS new_symbols,
               array_agg(open_time) FILTER (WHERE inserted AND close_time > $2) AS new_open_times
        FROM upserted GROUP BY interval
    """  # noqa: S608


_UNNEST_SOURCE = (
    "unnest("
    + ", ".join(f"${i + 3}::{t}[]" for i, t in enumerate(_PG_TYPES))
    + f") AS s({', '.join(COLUMNS)})"
)
UPSERT_FROM_ARRAYS = _upsert_sql(_UNNEST_SOURCE)
UPSERT_FROM_STAGING = _upsert_sql(f"{STAGING_TABLE} AS s")
_CREATE_STAGING = f"""
    CREATE TEMP TABLE IF NOT EXISTS {STAGING_TABLE} (
        {", ".join(f"{c} {t}" for c, t in zip(COLUMNS, _PG_TYPES, strict=True))}
    )
"""

NEVER = datetime.fromisoformat("9999-12-31T00:00:00+00:00")


async def upsert_candles(
    conn: asyncpg.Connection,
    rows: CandleRows,
    *,
    publish_after: datetime | None = None,
    source_priority: Sequence[str] = SOURCE_PRIORITY,
) -> UpsertOutcome:
    """Write ``rows`` (inside the caller's transaction); ``publish_after=None`` publishes nothing."""
    if not conn.is_in_transaction():
        raise RuntimeError("upsert_candles must run inside a transaction")
    rows = rows.deduplicated()
    if len(rows) == 0:
        return UpsertOutcome({}, [])
    cutoff = publish_after or NEVER
    priority = list(source_priority)
    if len(rows) >= COPY_THRESHOLD and not await _overlaps_stored(conn, rows):
        try:
            async with conn.transaction():  # a savepoint: a concurrent writer may have won a key
                records = _nulls_for_nan(rows)
                await conn.copy_records_to_table("candles", records=records, columns=list(COLUMNS))
        except asyncpg.UniqueViolationError:
            pass
        else:
            return _all_inserted(rows, cutoff)
    if len(rows) >= COPY_THRESHOLD:
        await conn.execute(_CREATE_STAGING)
        await conn.copy_records_to_table(STAGING_TABLE, records=rows.records(), columns=list(COLUMNS))
        written = await conn.fetch(UPSERT_FROM_STAGING, priority, cutoff)
        await conn.execute(f"TRUNCATE {STAGING_TABLE}")
    else:
        arrays = [rows.columns[name] for name in COLUMNS]
        written = await conn.fetch(UPSERT_FROM_ARRAYS, priority, cutoff, *arrays)
    counts = {
        interval: {"inserted": 0, "updated": 0, "unchanged": n}
        for interval, n in Counter(rows.columns["interval"]).items()
    }
    keys: list[Key] = []
    for row in written:
        c = counts[row["interval"]]
        c["inserted"], c["updated"] = int(row["inserted"]), int(row["updated"])
        c["unchanged"] -= c["inserted"] + c["updated"]
        keys.extend(
            (symbol, row["interval"], open_time)
            for symbol, open_time in zip(row["new_symbols"] or [], row["new_open_times"] or [], strict=True)
        )
    return UpsertOutcome(counts, keys)


async def _overlaps_stored(conn: asyncpg.Connection, rows: CandleRows) -> bool:
    """Whether any stored candle lies within the time span of one of the batch's series."""
    spans: dict[tuple[str, str], list[datetime]] = {}
    c = rows.columns
    for symbol, interval, opened in zip(c["symbol"], c["interval"], c["open_time"], strict=True):
        span = spans.get((symbol, interval))
        if span is None:
            spans[symbol, interval] = [opened, opened]
        elif opened < span[0]:
            span[0] = opened
        elif opened > span[1]:
            span[1] = opened
    keys = list(spans)
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                     AS s(symbol, interval, first, last)
                WHERE EXISTS (SELECT 1 FROM candles c WHERE c.symbol = s.symbol AND c.interval = s.interval
                              AND c.open_time BETWEEN s.first AND s.last)
            )
            """,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [spans[k][0] for k in keys],
            [spans[k][1] for k in keys],
        )
    )


def _nulls_for_nan(rows: CandleRows) -> list[tuple]:
    columns = dict(rows.columns)
    for name in ("quote_volume", "market_cap"):
        columns[name] = [None if v is None or v != v else v for v in columns[name]]
    return list(zip(*(columns[name] for name in COLUMNS), strict=True))


def _all_inserted(rows: CandleRows, cutoff: datetime) -> UpsertOutcome:
    c = rows.columns
    counts = {
        interval: {"inserted": n, "updated": 0, "unchanged": 0}
        for interval, n in Counter(c["interval"]).items()
    }
    keys = [
        (symbol, interval, opened)
        for symbol, interval, opened in zip(c["symbol"], c["interval"], c["open_time"], strict=True)
        if opened + INTERVALS[interval] > cutoff
    ]
    return UpsertOutcome(counts, keys)


_EXECUTEMANY_SQL = f"""
    INSERT INTO candles AS c ({", ".join(COLUMNS)})
    VALUES ({", ".join(f"${i + 1}" for i in range(len(COLUMNS)))})
    ON CONFLICT (symbol, interval, open_time) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLUMNS)}, updated_at = now()
    WHERE ({", ".join(f"c.{c}" for c in _VALUE_COLUMNS)})
          IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _VALUE_COLUMNS)})
"""  # noqa: S608


async def upsert_candles_executemany(conn: asyncpg.Connection, rows: CandleRows) -> None:
    """The naive alternative (one INSERT ... ON CONFLICT per row): the benchmark's baseline."""
    records = [
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in record)
        for record in rows.deduplicated().records()
    ]
    await conn.executemany(_EXECUTEMANY_SQL, records)
