"""The ``scope`` claim: what a token issued for an API key may do, below its role.

A login session's token has no scope claim and may do whatever its role may. A token exchanged
for an API key carries the key's scope, space-separated like OAuth's: ``read`` (read-only) or
``read execute`` (also acts: executing a signal). Routes that act depend on
:func:`require_scope`; reads need nothing more than a valid token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from cp_common.errors import Forbidden
from cp_common.security.principal import Principal

READ = "read"
EXECUTE = "execute"
KNOWN = frozenset({READ, EXECUTE})
#: The scopes an API key may have, as written in the claim.
READ_ONLY = READ
READ_EXECUTE = f"{READ} {EXECUTE}"


def valid(scope: str) -> bool:
    parts = scope.split(" ")
    return 0 < len(parts) <= len(KNOWN) and set(parts) <= KNOWN and len(set(parts)) == len(parts)


def allows(principal: Principal, scope: str) -> bool:
    return principal.scope is None or scope in principal.scope.split(" ")


def require_scope(
    scope: str, who: Callable[..., Awaitable[Principal]] | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting ``who`` (default: the caller; or e.g. a rate-limited caller) only
    if its token allows ``scope``; 403 otherwise."""
    # imported here: the verifier imports this module, and roles imports the verifier
    from cp_common.security.roles import current_principal

    who = who or current_principal
    if scope not in KNOWN:
        raise ValueError(f"unknown scope {scope!r}")

    async def require_allowed_scope(request: Request, principal: Principal = Depends(who)) -> Principal:
        if not allows(principal, scope):
            raise Forbidden(f"this token's scope does not include {scope}")
        request.state.required_scopes = (*getattr(request.state, "required_scopes", ()), scope)
        return principal

    return require_allowed_scope
