"""Fixtures: the real data directory (via ``default_data_dir``) and cached loads.

Without data, tests that need it fail when ``CI=true`` (the CI machine has the data) and
are skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cp_market.dataset import default_data_dir, load_candles
from cp_market.report import ImportReport


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = default_data_dir()
    if found is None or not Path(found).is_dir():
        message = "market data directory not found (set CP_DATA_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Path(found)


@pytest.fixture(scope="session")
def daily_all(data_dir: Path) -> tuple[pd.DataFrame, ImportReport]:
    return load_candles(data_dir, interval="1d")
