"""Append-only log of every evaluated configuration (the deflated Sharpe ratio's N)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path


class TrialLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def append(self, entry: dict) -> dict:
        row = {"logged_at": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(row, default=str, sort_keys=True) + "\n")
        return row

    def sharpe_by_configuration(self) -> dict[str, float]:
        """Last logged per-period Sharpe of each distinct configuration fingerprint."""
        out: dict[str, float] = {}
        for e in self.entries():
            sr = e.get("per_period_sharpe")
            if e.get("fingerprint") and sr is not None:
                out[e["fingerprint"]] = float(sr)
        return out
