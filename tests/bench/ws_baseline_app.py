"""The smallest WebSocket app on the same server stack (uvicorn, Starlette): the memory baseline
of ``bench_notification``. It answers the handshake, sends one message, and echoes what it gets."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


async def echo(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="cryptopredict.v1")
    await websocket.send_text('{"type":"signals_init"}')
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return


app = Starlette(routes=[WebSocketRoute("/api/v1/ws/signals", echo)])
