"""FastAPI dependencies: the service's pool and who may read.

Reads need a logged-in user of any role (the seeds' ``get_current_user``) unless
``INGESTION_PUBLIC_READS`` is true, the default in local and test mode, where the fleet may run
without the auth service.
"""

from __future__ import annotations

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cp_common.http.openapi import public_scheme
from cp_common.security import Principal, Role, current_principal, require_roles

#: Its own scheme name, so OpenAPI can leave it out when reads are public.
_bearer = public_scheme(
    HTTPBearer(auto_error=False, scheme_name="MarketReader", description="Access token from /api/v1/auth"),
    lambda settings: bool(settings.reads_are_public),
)
_any_role = require_roles(*Role)


async def pool(request: Request) -> asyncpg.Pool:  # async: a plain def would run in a thread
    return request.app.state.runtime.require_pool()


async def reader(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal | None:
    """None when reads are public, else the verified caller (401 without a valid token).
    When public, OpenAPI declares no token for the routes using it."""
    if request.app.state.settings.reads_are_public:
        return None
    return await _any_role(request, await current_principal(request, credentials))
