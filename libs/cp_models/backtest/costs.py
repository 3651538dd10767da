"""Trading costs: exchange fee and slippage per side, applied to every fill."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CostModel:
    fee: float = 0.001  # 0.1 % of notional per side
    slippage: float = 0.0005  # 0.05 % adverse price move per side

    @property
    def per_side(self) -> float:
        return self.fee + self.slippage

    def scaled(self, multiple: float) -> CostModel:
        return CostModel(self.fee * multiple, self.slippage * multiple)

    def buy_fill(self, price: float) -> float:
        return price * (1.0 + self.slippage)

    def sell_fill(self, price: float) -> float:
        return price * (1.0 - self.slippage)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
