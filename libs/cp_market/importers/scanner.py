"""Directory scanner: recognise every data file by its header (not by folder name).

``scan_directory(root)`` walks ``root`` recursively and returns a ``DataFile`` for each
CSV whose layout an importer recognises; unknown files are listed in ``unrecognised``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cp_market.importers import (
    binance,
    cmc,
    coingecko_global,
    cryptodatadownload,
    fear_greed,
    metadata,
    yahoo,
)
from cp_market.importers._common import pair_and_interval_from_name, read_head
from cp_market.symbols import split_pair

KIND_CANDLES = "candles"
KIND_GLOBAL = "global"
KIND_FEAR_GREED = "fear_greed"
KIND_ASSETS = "assets"
KIND_CATEGORIES = "categories"


@dataclass(frozen=True, slots=True)
class DataFile:
    """One recognised file: its format, kind, source, and (for candles) interval/symbol."""

    path: Path
    format: str
    kind: str
    source: str
    interval: str | None = None
    symbol: str | None = None


@dataclass
class ScanResult:
    files: list[DataFile] = field(default_factory=list)
    unrecognised: list[Path] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[DataFile]:
        return [f for f in self.files if f.kind == kind]


# (format, kind, source, sniff); the first match wins
_DETECTORS: tuple[tuple[str, str, str, Callable[[Path, list[str]], bool]], ...] = (
    (cmc.FORMAT, KIND_CANDLES, cmc.SOURCE, cmc.sniff),
    (cryptodatadownload.FORMAT, KIND_CANDLES, cryptodatadownload.SOURCE, cryptodatadownload.sniff),
    (binance.FORMAT, KIND_CANDLES, binance.SOURCE, binance.sniff),
    (yahoo.FORMAT, KIND_CANDLES, yahoo.SOURCE, yahoo.sniff),
    (fear_greed.FORMAT, KIND_FEAR_GREED, fear_greed.SOURCE, fear_greed.sniff),
    (coingecko_global.FORMAT, KIND_GLOBAL, coingecko_global.SOURCE, coingecko_global.sniff),
    (metadata.FORMAT_ASSETS, KIND_ASSETS, "dataset", metadata.sniff_assets),
    (metadata.FORMAT_CATEGORIES, KIND_CATEGORIES, "coingecko", metadata.sniff_categories),
)


def detect_format(path: Path | str) -> DataFile | None:
    """Recognise one file; None if no importer understands it."""
    path = Path(path)
    head = read_head(path, 3)
    for fmt, kind, source, sniff in _DETECTORS:
        if sniff(path, head):
            interval = symbol = None
            if kind == KIND_CANDLES:
                interval, symbol = _candle_hints(path, fmt, head)
            return DataFile(path, fmt, kind, source, interval, symbol)
    return None


def _candle_hints(path: Path, fmt: str, head: list[str]) -> tuple[str | None, str | None]:
    if fmt == cmc.FORMAT:
        first = head[1].split(",") if len(head) > 1 else []
        return "1d", (first[2].strip().upper() if len(first) > 2 else None)
    if fmt == yahoo.FORMAT:
        pair, _ = pair_and_interval_from_name(path)
        return "1d", split_pair(pair)[0] if pair else None
    pair, interval = pair_and_interval_from_name(path)
    return interval, (split_pair(pair)[0] if pair else None)


def scan_directory(root: Path | str) -> ScanResult:
    """All recognised data files under ``root`` (sorted by path)."""
    result = ScanResult()
    root = Path(root)
    for path in sorted(root.rglob("*.csv")):
        found = detect_format(path)
        if found is None:
            result.unrecognised.append(path)
        else:
            result.files.append(found)
    return result
