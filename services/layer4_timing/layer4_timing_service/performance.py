"""The live track record from closed signals: win rate, average return, profit factor, overall
and by regime, symbol and voter. A win is a trade whose return net of costs is above zero;
profit factor is the sum of winning returns over the magnitude of the sum of losing ones."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from layer4_timing_service.storage.evidence import EvidenceAccuracy
from layer4_timing_service.storage.signals import SignalRecord


@dataclass(frozen=True)
class Record:
    signals: int
    wins: int
    win_rate: float | None
    average_return: float | None
    total_return: float
    profit_factor: float | None
    by_status: dict[str, int]


def summarise(closed: Iterable[SignalRecord]) -> Record:
    rows = [s for s in closed if s.net_return is not None]
    returns = [float(s.net_return) for s in rows if s.net_return is not None]
    gains = sum(r for r in returns if r > 0)
    losses = -sum(r for r in returns if r < 0)
    wins = sum(1 for r in returns if r > 0)
    statuses: dict[str, int] = defaultdict(int)
    for s in rows:
        statuses[s.status] += 1
    return Record(
        signals=len(returns),
        wins=wins,
        win_rate=wins / len(returns) if returns else None,
        average_return=sum(returns) / len(returns) if returns else None,
        total_return=sum(returns),
        profit_factor=gains / losses if losses > 0 else None,
        by_status=dict(statuses),
    )


def _grouped(closed: list[SignalRecord], key: Callable[[SignalRecord], str]) -> dict[str, dict[str, object]]:
    groups: dict[str, list[SignalRecord]] = defaultdict(list)
    for s in closed:
        groups[key(s)].append(s)
    return {k: asdict(summarise(v)) for k, v in sorted(groups.items())}


def by_voter(
    closed: list[SignalRecord], accuracy: dict[str, EvidenceAccuracy]
) -> dict[str, dict[str, object]]:
    """Per voter: the record of the signals it sided with, and its rolling live accuracy/weight."""
    sided: dict[str, list[SignalRecord]] = defaultdict(list)
    for s in closed:
        for v in s.votes:
            if v.action == s.signal_type:
                sided[v.voter].append(s)
    voters = sorted(set(sided) | set(accuracy))
    out: dict[str, dict[str, object]] = {}
    for voter in voters:
        live = accuracy.get(voter)
        out[voter] = {
            **asdict(summarise(sided.get(voter, []))),
            "live_accuracy": live.accuracy if live else None,
            "live_weight": live.weight if live else None,
            "accuracy_samples": live.samples if live else 0,
        }
    return out


def performance(
    closed: list[SignalRecord], accuracy: dict[str, EvidenceAccuracy], days: int
) -> dict[str, object]:
    return {
        "period_days": days,
        **asdict(summarise(closed)),
        "by_regime": _grouped(closed, lambda s: s.market_regime or "unknown"),
        "by_symbol": _grouped(closed, lambda s: s.symbol),
        "by_signal_type": _grouped(closed, lambda s: s.signal_type),
        "by_voter": by_voter(closed, accuracy),
    }
