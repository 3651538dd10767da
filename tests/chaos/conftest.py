"""One whole fleet for every test of this package (see ``chaos_fleet.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .chaos_fleet import ChaosFleet, running_fleet


@pytest.fixture(scope="package")
def chaos_fleet() -> Iterator[ChaosFleet]:
    with running_fleet() as fleet:
        yield fleet
