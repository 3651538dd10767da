"""File importers: one module per source format, plus a directory scanner.

Each candle importer's ``import_file(path)`` returns ``(candle_frame, ImportReport)``
with normalised, validated rows (see ``cp_market.validation``). ``import_candle_file``
dispatches on the detected format.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.importers import binance, cmc, cryptodatadownload, yahoo
from cp_market.report import ImportReport
from cp_market.validation import DEFAULT_CONFIG, ValidationConfig

CANDLE_IMPORTERS = {
    binance.FORMAT: binance,
    cmc.FORMAT: cmc,
    cryptodatadownload.FORMAT: cryptodatadownload,
    yahoo.FORMAT: yahoo,
}


def import_candle_file(
    path: Path | str, *, as_of: object = None, config: ValidationConfig = DEFAULT_CONFIG
) -> tuple[pd.DataFrame, ImportReport]:
    """Detect the format of ``path`` and import it as candles."""
    from cp_market.importers.scanner import detect_format

    found = detect_format(path)
    if found is None or found.format not in CANDLE_IMPORTERS:
        raise ValueError(f"{Path(path).name}: not a recognised candle file")
    return CANDLE_IMPORTERS[found.format].import_file(found.path, as_of=as_of, config=config)


__all__ = ["CANDLE_IMPORTERS", "import_candle_file"]
