"""Printing answers: a Rich table (or key/value panel) by default, JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

stdout = Console()
stderr = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True)
class Column:
    header: str
    #: Dotted path into a row, e.g. ``market.price_usd``.
    path: str
    #: ``"pct"``, ``"usd"``, ``"num"`` or ``""`` (as is).
    style: str = ""


def pick(row: Any, path: str) -> Any:
    value = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _format_time(value: str) -> str:
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


def cell(value: Any, style: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and style == "pct":
        return f"{value:+.2f}%"
    if isinstance(value, int | float) and style == "usd":
        return f"${value:,.2f}" if abs(value) < 1_000_000 else f"${value:,.0f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return _format_time(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, sort_keys=True))


def table(rows: Sequence[Any], columns: Sequence[Column], *, title: str | None = None) -> None:
    view = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        view.add_column(column.header, justify="right" if column.style in ("pct", "usd", "num") else "left")
    for row in rows:
        view.add_row(*(cell(pick(row, c.path), c.style) for c in columns))
    stdout.print(view)
    if not rows:
        stdout.print("[dim](none)[/dim]")


def fields(data: dict[str, Any], *, title: str | None = None) -> None:
    """One record as a two-column table of its top-level fields."""
    view = Table(title=title, show_header=False)
    view.add_column("field", style="bold")
    view.add_column("value")
    for key, value in data.items():
        view.add_row(key, cell(value))
    stdout.print(view)


def show(data: Any, as_json: bool, render: Any) -> None:
    """``--json`` prints ``data``; otherwise ``render(data)`` draws it."""
    if as_json:
        emit_json(data)
    else:
        render(data)
