"""Symbol normalisation: exchange pairs -> (base, quote), and ticker-reuse rules.

Symbol reuse (documented choice): when a ticker is later reused by a different asset,
rows from the reuse date on are **renamed** to a distinct symbol (policy ``"remap"``,
the default) so both histories survive and no return is ever computed across the two
assets; policy ``"reject"`` drops those rows with reason ``symbol_reused`` instead.

Known reuse: ``LUNA`` (Terra classic) collapsed in May 2022; Binance's ``LUNAUSDT`` rows
from 2022-05-28 (Terra 2.0 genesis) on are the new chain's token -> ``LUNA2``. The
classic coin keeps ``LUNA`` for its pre-collapse history (CoinGecko now calls it LUNC).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

QUOTE_ASSETS: tuple[str, ...] = (
    "FDUSD",
    "USDT",
    "USDC",
    "BUSD",
    "TUSD",
    "DAI",
    "USD",
    "EUR",
    "TRY",
    "BTC",
    "ETH",
    "BNB",
)
"""Quote assets recognised at the end of an exchange pair, longest first."""


def split_pair(pair: str) -> tuple[str, str]:
    """Split "BTCUSDT" / "BTC/USDT" / "BTC-USD" into ("BTC", "USDT")."""
    p = pair.strip().upper()
    for sep in ("/", "-", "_"):
        if sep in p:
            base, quote = p.split(sep, 1)
            return base, quote
    for quote in sorted(QUOTE_ASSETS, key=len, reverse=True):
        if p.endswith(quote) and len(p) > len(quote):
            return p[: -len(quote)], quote
    return p, ""


@dataclass(frozen=True, slots=True)
class SymbolReuse:
    """Rows of ``symbol`` with ``open_time >= since`` belong to ``new_symbol``."""

    symbol: str
    since: pd.Timestamp
    new_symbol: str
    note: str = ""


SYMBOL_REUSES: tuple[SymbolReuse, ...] = (
    SymbolReuse(
        "LUNA",
        pd.Timestamp("2022-05-28", tz="UTC"),
        "LUNA2",
        "Terra 2.0 (terra-luna-2) reused the LUNA ticker after the May-2022 collapse",
    ),
)
"""Known ticker reuses; extend here when another ticker is recycled."""
