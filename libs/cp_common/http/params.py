"""Shared request-parameter declarations, so limits live in the schema (and in OpenAPI).

``text_query`` is a free-text query parameter: bounded length and no control characters (a NUL
reaches PostgreSQL as an encoding error, an escape sequence reaches logs and terminals).
"""

from __future__ import annotations

from typing import Any

from fastapi import Query

#: No C0 control character (NUL, line breaks, escape) and no DEL.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def text_query(*, max_length: int, description: str, min_length: int | None = None) -> Any:
    """``Query(...)`` for free text: at most ``max_length`` characters, printable only."""
    return Query(
        min_length=min_length,
        max_length=max_length,
        pattern=PRINTABLE_PATTERN,
        description=f"{description} (printable characters only, at most {max_length})",
    )
