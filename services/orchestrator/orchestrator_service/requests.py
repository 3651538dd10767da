"""Validation of what a caller asks the cascade for (HTTP and gRPC share it)."""

from __future__ import annotations

import re
import uuid

from cp_common.errors import InvalidParameter
from orchestrator_service.cascade import CascadeRequest

RUN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
SYMBOL = re.compile(r"^[A-Z0-9]{1,20}$")
MODES = ("full", "quick")
TRIGGERS = ("schedule", "market_event", "manual")


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex}"


def cascade_request(
    *, symbols: list[str], mode: str, run_id: str | None, trigger: str = "manual", max_symbols: int = 200
) -> CascadeRequest:
    if mode not in MODES:
        raise InvalidParameter(f"mode must be one of {', '.join(MODES)}", field="mode")
    if trigger not in TRIGGERS:
        raise InvalidParameter(f"trigger must be one of {', '.join(TRIGGERS)}", field="trigger")
    if run_id is not None and not RUN_ID.match(run_id):
        raise InvalidParameter("run_id must be 1-100 characters of A-Z a-z 0-9 . _ : -", field="run_id")
    cleaned = [s.strip().upper() for s in symbols]
    if len(cleaned) > max_symbols:
        raise InvalidParameter(f"at most {max_symbols} symbols", field="symbols")
    bad = [s for s in cleaned if not SYMBOL.match(s)]
    if bad:
        raise InvalidParameter(f"invalid symbol {bad[0]!r}", field="symbols")
    if mode == "quick" and not cleaned:
        raise InvalidParameter("quick analysis needs at least one symbol", field="symbols")
    return CascadeRequest(
        run_id=run_id or new_run_id(), trigger=trigger, mode=mode, symbols=tuple(dict.fromkeys(cleaned))
    )
