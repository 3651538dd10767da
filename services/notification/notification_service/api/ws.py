"""The three WebSocket streams (see :mod:`notification_service.sessions` for the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from notification_service.api.deps import components
from notification_service.notices import Audience
from notification_service.sessions import serve

router = APIRouter(prefix="/api/v1/ws")


@router.websocket("/dashboard")
async def dashboard(websocket: WebSocket) -> None:
    """Layer updates, cascade runs and the caller's signals, for every signed-in user."""
    await serve(websocket, components(websocket), Audience.DASHBOARD)


@router.websocket("/signals")
async def signals(websocket: WebSocket) -> None:
    """New and closed signals for the symbols the caller watches or subscribed to."""
    await serve(websocket, components(websocket), Audience.SIGNALS)


@router.websocket("/admin/system-status")
async def system_status(websocket: WebSocket) -> None:
    """Admins only: fleet health, cascade runs, new suggestions and admin notifications."""
    await serve(websocket, components(websocket), Audience.ADMIN)
