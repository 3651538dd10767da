"""Shared fixtures: a seeded simulated market, a fast configuration and one trained cascade."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from cp_models.config import CascadeConfig, EvaluationConfig, L2Config, L3Config, L4Config
from cp_models.data import MarketData, simulated_market_data
from cp_models.datasets import build_datasets
from cp_models.training import train_cascade


@pytest.fixture(scope="session")
def sim_data() -> MarketData:
    return simulated_market_data(seed=3, days=3 * 365, start="2019-01-01")


@pytest.fixture(scope="session")
def fast_config() -> CascadeConfig:
    """Smaller models so the suite stays fast; the structure is the production one."""
    base = CascadeConfig()
    return dataclasses.replace(
        base,
        l2=L2Config(max_iter=40),
        l3=L3Config(max_iter=40),
        l4=L4Config(epochs=2, patience=1),
        evaluation=EvaluationConfig(test_days=120, workers=1),
    )


@pytest.fixture(scope="session")
def sim_datasets(sim_data, fast_config):
    return build_datasets(sim_data, fast_config)


@pytest.fixture(scope="session")
def trained(sim_datasets, fast_config):
    test_start = sim_datasets.data.index[-1] - pd.Timedelta(days=119)
    return train_cascade(sim_datasets, None, test_start, fast_config), test_start
