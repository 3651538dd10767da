"""The pre-listed book variants of the evaluation: the full cascade and its ablations.

Every variant is decided by ``signals.day_signals`` with the same trained models and is
logged as its own trial. Ids follow the review's table: B = L1 on BTC, C = selection, D =
L2, E = L4, G = leave one layer out, S = sensitivity.
"""

from __future__ import annotations

from dataclasses import replace

from cp_models.book import BookVariant

FULL = BookVariant("cascade")
# selection alone: always invested, equal weights, no trend filters, no volatility target
_PLAIN = BookVariant("plain", asset_trend=False, inverse_vol=False, market_gate=False, vol_target=False)

VARIANTS: tuple[BookVariant, ...] = (
    FULL,
    BookVariant("B1_btc_x_l1_gate", btc_only=True, vol_target=False),
    BookVariant("B2_btc_x_l1_gate_x_vol_target", btc_only=True),
    BookVariant("B3_btc_vol_target_only", btc_only=True, market_gate=False),
    replace(_PLAIN, name="C1_l3_top_k_equal_weight", score="l3", groups="none", l4="none"),
    replace(_PLAIN, name="C2_momentum_top_k_equal_weight", score="momentum", groups="none", l4="none"),
    BookVariant("C3_core_without_l2_l4", groups="none", l4="none"),
    BookVariant("D1_core_with_l2", l4="none"),
    BookVariant("D2_core_with_random_groups", groups="random", l4="none"),
    BookVariant("E1_core_with_l4_gate", groups="none"),
    BookVariant("E4_core_with_random_filter", groups="none", l4="random"),
    BookVariant("G1_cascade_without_l1", market_gate=False),
    BookVariant("G3_cascade_without_l3_model", score="momentum"),
    BookVariant("G4_cascade_with_random_filter", l4="random"),
)
LEAVE_ONE_OUT = {
    "L1": "G1_cascade_without_l1",
    "L2": "E1_core_with_l4_gate",
    "L3": "G3_cascade_without_l3_model",
    "L4": "D1_core_with_l2",
}
PLACEBOS = {
    "L2 vs random groups": ("D1_core_with_l2", "D2_core_with_random_groups"),
    "L4 vs random filter (core)": ("E1_core_with_l4_gate", "E4_core_with_random_filter"),
    "L4 vs random filter (cascade)": ("cascade", "G4_cascade_with_random_filter"),
    "L3 model vs raw momentum (top-K)": ("C1_l3_top_k_equal_weight", "C2_momentum_top_k_equal_weight"),
}
CONTINUOUS = "S1_cascade_continuous_data_coins"


def with_sensitivity(symbols: list[str]) -> tuple[BookVariant, ...]:
    """The variants plus the full cascade restricted to ``symbols`` (coins with continuous data)."""
    return (*VARIANTS, replace(FULL, name=CONTINUOUS, symbols=frozenset(symbols)))
