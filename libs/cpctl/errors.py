"""What can go wrong, as one exception carrying the message and the process exit code.

Exit codes (stable, for scripts): 0 success, 1 the API refused the request (400, 409, 422...),
2 wrong usage (Typer's own), 3 not logged in or the session expired (401), 4 not allowed for
this account (403), 5 not found (404 from a service), 6 the feature's service is unavailable or
not deployed yet (the gateway answers 404 for a route nothing serves, 502, 503, 504),
7 the gateway cannot be reached, 8 rate limited (429).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    API_ERROR = 1
    USAGE = 2
    NOT_LOGGED_IN = 3
    FORBIDDEN = 4
    NOT_FOUND = 5
    UNAVAILABLE = 6
    UNREACHABLE = 7
    RATE_LIMITED = 8


class CliError(Exception):
    """Printed as ``error: <message>`` on stderr; the process exits with ``code``."""

    def __init__(self, message: str, code: ExitCode = ExitCode.API_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
