"""What "now" is for expiry checks and the performance window.

``wall`` (the default) is the system clock. ``market`` is the close of the newest daily bar the
tracker has seen, for fleets that replay history (``INGESTION_SOURCE=replay``): there a signal
generated from 2023 data expires in 2023 terms, not against today's date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from layer4_timing_service.storage import bars


async def now(conn: asyncpg.Connection, mode: str) -> datetime:
    if mode == "market":
        latest = await bars.newest_open_time(conn)
        if latest is not None:
            return latest + timedelta(days=1)
    return datetime.now(UTC)
