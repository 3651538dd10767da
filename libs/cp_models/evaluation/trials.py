"""Append-only log of every evaluated configuration (the deflated Sharpe ratio's N).

A fresh log is seeded with the trials of earlier sessions on the shared data
(``trial_history.jsonl``), so the deflated Sharpe counts every configuration ever run on the
test window, including runs that made no trade (their Sharpe counts as 0, not as missing).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

HISTORY = Path(__file__).with_name("trial_history.jsonl")


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

    def sharpe_by_configuration(self, window: list[str] | None = None) -> dict[str, float]:
        """Last logged per-period Sharpe of each distinct configuration fingerprint (on
        ``window`` when given). A run without trades (no Sharpe) counts as 0: it is a trial."""
        out: dict[str, float] = {}
        for e in self.entries():
            if not e.get("fingerprint") or (window is not None and e.get("window") != window):
                continue
            sr = e.get("per_period_sharpe")
            value = float(sr) if sr is not None else 0.0
            out[e["fingerprint"]] = value if math.isfinite(value) else 0.0
        return out


def seed_history(log: TrialLog, history: Path = HISTORY) -> int:
    """Copy the earlier sessions' trials into an empty log; returns how many were added."""
    if log.entries() or not history.exists():
        return 0
    rows = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    log.path.parent.mkdir(parents=True, exist_ok=True)
    with log.path.open("a") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
    return len(rows)
