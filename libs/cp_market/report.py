"""Import bookkeeping: machine-readable reason codes and the ``ImportReport``.

Every row an importer reads is either accepted or rejected with exactly one
``RejectReason``; ``rows_read == rows_accepted + rows_rejected`` holds for each file.
Non-fatal issues are counted as flags (``CandleFlag``) on accepted rows; gaps in a
series are listed as ``Gap`` records (gaps are reported, never filled).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd


class RejectReason(StrEnum):
    """Why a row was rejected (stable, machine-readable codes)."""

    BAD_TIMESTAMP = "bad_timestamp"  # time field unparseable
    MISALIGNED_TIME = "misaligned_time"  # open_time not on the interval grid
    BAD_NUMBER = "bad_number"  # a numeric field is unparseable
    MISSING_VALUE = "missing_value"  # a required price/volume is empty/NaN
    NON_POSITIVE_PRICE = "non_positive_price"  # a price <= 0
    NEGATIVE_VOLUME = "negative_volume"  # volume < 0
    OHLC_INCONSISTENT = "ohlc_inconsistent"  # not low <= open, close <= high
    DUPLICATE = "duplicate_superseded"  # same key seen again; a preferred row was kept
    INCOMPLETE_CANDLE = "incomplete_candle"  # candle still open at capture time
    STALE_PARTIAL_CANDLE = "stale_partial_candle"  # known never-refreshed partial candle
    SYMBOL_REUSED = "symbol_reused"  # ticker reused by a different asset (policy "reject")
    UNKNOWN_SYMBOL = "unknown_symbol"  # no symbol could be derived
    OUT_OF_RANGE = "out_of_range"  # value outside its documented range (e.g. F&G 0-100)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected row: where it came from and why."""

    file: str
    line: int  # 1-based line number in the file (header = line 1); -1 if not from a file
    reason: RejectReason
    symbol: str = ""
    open_time: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """A hole in a regular series: ``missing`` candles between ``after`` and ``before``."""

    symbol: str
    interval: str
    source: str
    after: pd.Timestamp  # last open_time before the hole
    before: pd.Timestamp  # first open_time after the hole
    missing: int
    file: str = ""


@dataclass
class ImportReport:
    """What happened while importing/validating/merging one or more files."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    duplicates_resolved: int = 0  # rows dropped because their key was seen again
    duplicate_conflicts: int = 0  # ... of which had different values
    out_of_order_rows: int = 0  # rows that were not in ascending time order in the file
    gaps: list[Gap] = field(default_factory=list)  # per file/source
    series_gaps: list[Gap] = field(default_factory=list)  # in the merged series load_candles returns
    flags: Counter[str] = field(default_factory=Counter)
    symbols_remapped: Counter[str] = field(default_factory=Counter)  # "LUNA->LUNA2": n
    overlaps_resolved: Counter[str] = field(default_factory=Counter)  # losing source: n
    rows_after_end: int = 0  # rows dropped by load_candles' end bound
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejections)

    @property
    def rejected_by_reason(self) -> Counter[str]:
        return Counter(str(r.reason) for r in self.rejections)

    @property
    def gaps_found(self) -> int:
        return len(self.gaps)

    @property
    def missing_candles(self) -> int:
        return sum(g.missing for g in self.gaps)

    def reject(
        self,
        file: str,
        line: int,
        reason: RejectReason,
        *,
        symbol: str = "",
        open_time: object = "",
        detail: str = "",
    ) -> None:
        self.rejections.append(
            Rejection(file, int(line), RejectReason(reason), symbol, str(open_time or ""), detail)
        )

    def merge(self, other: ImportReport) -> ImportReport:
        """Add ``other``'s counts and records into this report (returns self)."""
        self.files.extend(other.files)
        self.rows_read += other.rows_read
        self.rows_accepted += other.rows_accepted
        self.rejections.extend(other.rejections)
        self.duplicates_resolved += other.duplicates_resolved
        self.duplicate_conflicts += other.duplicate_conflicts
        self.out_of_order_rows += other.out_of_order_rows
        self.gaps.extend(other.gaps)
        self.series_gaps.extend(other.series_gaps)
        self.flags.update(other.flags)
        self.symbols_remapped.update(other.symbols_remapped)
        self.overlaps_resolved.update(other.overlaps_resolved)
        self.rows_after_end += other.rows_after_end
        self.notes.extend(other.notes)
        return self

    def rejections_frame(self) -> pd.DataFrame:
        """Rejections as a DataFrame (file, line, reason, symbol, open_time, detail)."""
        cols = ["file", "line", "reason", "symbol", "open_time", "detail"]
        return pd.DataFrame(
            [(r.file, r.line, str(r.reason), r.symbol, r.open_time, r.detail) for r in self.rejections],
            columns=cols,
        )

    def gaps_frame(self) -> pd.DataFrame:
        cols = ["symbol", "interval", "source", "after", "before", "missing", "file"]
        return pd.DataFrame(
            [(g.symbol, g.interval, g.source, g.after, g.before, g.missing, g.file) for g in self.gaps],
            columns=cols,
        )

    def summary(self) -> dict[str, object]:
        """A JSON-friendly summary of the counts."""
        return {
            "files": len(self.files),
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(self.rejected_by_reason.most_common()),
            "duplicates_resolved": self.duplicates_resolved,
            "duplicate_conflicts": self.duplicate_conflicts,
            "out_of_order_rows": self.out_of_order_rows,
            "gaps_found": self.gaps_found,
            "missing_candles": self.missing_candles,
            "series_gaps": len(self.series_gaps),
            "flags": dict(self.flags.most_common()),
            "symbols_remapped": dict(self.symbols_remapped),
            "overlaps_resolved": dict(self.overlaps_resolved),
            "rows_after_end": self.rows_after_end,
        }
