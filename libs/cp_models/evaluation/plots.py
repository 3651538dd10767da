"""PNG plots of the evaluation report (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

REGIME_COLORS = {"bull": "#2e7d32", "bear": "#c62828", "sideways": "#9e9e9e", "volatile": "#f9a825"}


def equity_and_drawdown(curves: dict[str, pd.Series], path: Path, title: str) -> Path:
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    for name, r in curves.items():
        eq = (1.0 + r.fillna(0.0)).cumprod()
        ax1.plot(eq.index, eq.to_numpy(), label=name, lw=1.4 if name.startswith("cascade") else 1.0)
        ax2.plot(eq.index, (eq / eq.cummax() - 1.0).to_numpy() * 100, lw=1.0)
    ax1.set_yscale("log")
    ax1.set_ylabel("equity (log)")
    ax1.set_title(title)
    ax1.legend(loc="upper left", fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.set_ylabel("drawdown %")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def reliability_diagram(table: list[dict], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfect calibration")
    rows = [r for r in table if r["count"] > 0]
    x = [r["mean_predicted"] for r in rows]
    y = [r["observed_frequency"] for r in rows]
    sizes = np.array([r["count"] for r in rows], dtype=float)
    ax.scatter(x, y, s=20 + 200 * sizes / max(sizes.max(), 1), alpha=0.7, label="bins (size = count)")
    ax.plot(x, y, lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def regime_timeline(timeline: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(timeline.index, timeline["btc"].to_numpy(), color="black", lw=1.0)
    ax.set_yscale("log")
    reg = timeline["regime"]
    change = reg.ne(reg.shift()).cumsum()
    for _, seg in reg.groupby(change):
        r = seg.iloc[0]
        if isinstance(r, str):
            ax.axvspan(
                seg.index[0],
                seg.index[-1] + pd.Timedelta(days=1),
                color=REGIME_COLORS.get(r, "white"),
                alpha=0.25,
                lw=0,
            )
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.4) for c in REGIME_COLORS.values()]
    ax.legend(handles, list(REGIME_COLORS), loc="upper left", fontsize=8, title="predicted L1 regime")
    ax.set_ylabel("BTC (log)")
    ax.set_title("L1 out-of-sample regime predictions over BTC")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
