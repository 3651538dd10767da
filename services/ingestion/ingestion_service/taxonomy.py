"""The sector taxonomy the service owns: the project's sector vocabulary with display names.

The machine names come from ``cp_market`` (the same vocabulary the importers, the simulator and
the layers use); this module adds the names people read. ``sectors()`` is written to the
``sectors`` table at start-up and before assets are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from cp_market.importers.metadata import SECTORS

DISPLAY_NAMES: dict[str, str] = {
    "layer1": "Layer 1",
    "layer0_interop": "Layer 0 & Interoperability",
    "layer2": "Layer 2",
    "defi": "DeFi",
    "oracle": "Oracles",
    "exchange_token": "Exchange Tokens",
    "meme": "Meme",
    "gaming_nft_metaverse": "Gaming, NFT & Metaverse",
    "stablecoin": "Stablecoins",
    "privacy": "Privacy",
    "payments": "Payments",
    "storage_depin": "Storage & DePIN",
    "data_ai": "Data & AI",
    "iot": "Internet of Things",
    "web_advertising": "Web & Advertising",
    "dao_governance": "DAO & Governance",
    "infrastructure": "Infrastructure",
    "wrapped_asset": "Wrapped Assets",
    "commodity_backed": "Commodity-backed",
}


@dataclass(frozen=True)
class Sector:
    sector: str
    name: str
    position: int


def sectors() -> list[Sector]:
    """Every sector in the vocabulary's order (a name missing here falls back to the key)."""
    return [
        Sector(key, DISPLAY_NAMES.get(key, key.replace("_", " ").title()), position)
        for position, key in enumerate(SECTORS, start=1)
    ]


def known(sector: object) -> str | None:
    """``sector`` if it is in the vocabulary, else None (stored as "no sector")."""
    return sector if isinstance(sector, str) and sector in SECTORS else None
