"""FastAPI dependencies: the service's components, its flows, and the caller's address.

``async`` although they do not await anything much: FastAPI runs a plain ``def`` dependency in
its thread pool, a thread hand-off on every request.
"""

from __future__ import annotations

from fastapi import Request

from auth_service.accounts import Accounts
from auth_service.components import AuthComponents
from auth_service.sessions import Sessions

COMPONENTS_KEY = "auth"


async def components(request: Request) -> AuthComponents:
    return request.app.state.runtime.extras[COMPONENTS_KEY]


async def sessions(request: Request) -> Sessions:
    return Sessions(await components(request))


async def accounts(request: Request) -> Accounts:
    return Accounts(await components(request))


def client_ip(request: Request) -> str:
    """The client address as uvicorn resolved it (``X-Forwarded-For`` from the gateway only)."""
    return request.client.host if request.client else "unknown"
