"""The L4 sequence network (a small dilated 1-D CNN over recent daily candles), its
deterministic training loop and temperature-scaling calibration."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from torch import nn


class TimingNet(nn.Module):
    """Dilated causal-in-window CNN over (channels x length) plus a static context vector."""

    def __init__(self, channels: int, static: int, hidden: int = 16, classes: int = 3):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(channels, hidden, kernel_size=3),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, kernel_size=3, dilation=2),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, kernel_size=3, dilation=4),
            nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.Linear(2 * hidden + static, 32),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(32, classes),
        )

    def forward(self, seq: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        h = self.conv(seq.transpose(1, 2))  # (batch, hidden, steps)
        pooled = torch.cat([h[:, :, -1], h.mean(dim=2), static], dim=1)
        return self.head(pooled)


@dataclass(frozen=True)
class NetSpec:
    channels: int
    static: int
    hidden: int


@contextmanager
def deterministic_torch(seed: int, threads: int = 1) -> Iterator[torch.Generator]:
    """Seeded, single-threaded, deterministic kernels (same data + seed -> same weights)."""
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield torch.Generator().manual_seed(seed)
    finally:
        torch.use_deterministic_algorithms(prev_det)
        torch.set_num_threads(prev_threads)


def _batches(n: int, size: int, gen: torch.Generator | None) -> Iterator[torch.Tensor]:
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    for i in range(0, n, size):
        yield order[i : i + size]


def _loss(
    net: TimingNet, seq: torch.Tensor, static: torch.Tensor, y: torch.Tensor, size: int = 4096
) -> float:
    net.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(y), size):
            logits = net(seq[i : i + size], static[i : i + size])
            total += float(nn.functional.cross_entropy(logits, y[i : i + size], reduction="sum"))
    return total / max(len(y), 1)


def train_net(
    spec: NetSpec,
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    seed: int,
) -> tuple[TimingNet, dict]:
    """Adam + cross-entropy with early stopping on the validation loss (best epoch kept)."""
    with deterministic_torch(seed) as gen:
        net = TimingNet(spec.channels, spec.static, spec.hidden)
        opt = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
        xs, xz, y = (torch.from_numpy(a) for a in train)
        vs, vz, vy = (torch.from_numpy(a) for a in valid)
        best, best_state, bad, history = float("inf"), None, 0, []
        for _epoch in range(epochs):
            net.train()
            for b in _batches(len(y), batch_size, gen):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(net(xs[b], xz[b]), y[b])
                loss.backward()
                opt.step()
            v = _loss(net, vs, vz, vy) if len(vy) else _loss(net, xs, xz, y)
            history.append(v)
            if v < best - 1e-5:
                best, bad = v, 0
                best_state = {k: t.clone() for k, t in net.state_dict().items()}
            else:
                bad += 1
                if bad >= patience:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
    return net, {"epochs_run": len(history), "valid_loss_history": history, "best_valid_loss": best}


def logits_of(net: TimingNet, seq: np.ndarray, static: np.ndarray, size: int = 8192) -> np.ndarray:
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(seq), size):
            out.append(
                net(torch.from_numpy(seq[i : i + size]), torch.from_numpy(static[i : i + size])).numpy()
            )
    return np.concatenate(out) if out else np.zeros((0, 3), dtype="float32")


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits.astype("float64") / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimizing the negative log-likelihood on held-out data (Guo et al. 2017)."""
    if len(labels) < 50:
        return 1.0
    y = labels.astype(int)

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def state_to_bytes(net: TimingNet) -> bytes:
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    return buf.getvalue()


def net_from_bytes(spec: NetSpec, blob: bytes) -> TimingNet:
    net = TimingNet(spec.channels, spec.static, spec.hidden)
    net.load_state_dict(torch.load(io.BytesIO(blob), weights_only=True))
    net.eval()
    return net
