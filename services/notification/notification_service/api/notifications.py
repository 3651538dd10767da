"""``/api/v1/notifications/*``: the caller's preferences, webhook endpoints, deliveries and inbox.

Every route needs a valid access token (any role); a user sees and changes only their own data.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cp_common.errors import Conflict, NotFound, ServiceError
from cp_common.http import ok
from notification_service import repository as repo
from notification_service.api.deps import CallerDep, ComponentsDep
from notification_service.api.schemas import PreferencesBody, WebhookBody
from notification_service.connection import Preferences
from notification_service.notices import preferences_notice
from notification_service.webhooks import addresses, signing

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

Limit = Annotated[int, Query(ge=1, le=200)]
DeliveryStatus = Literal["pending", "delivered", "dead"]


class UnprocessableUrl(ServiceError):
    status_code = 422


@router.get("/preferences")
async def get_preferences(caller: CallerDep, components: ComponentsDep) -> Any:
    prefs = await repo.get_preferences(components.pool, caller.user_id)
    return ok(prefs.as_data())


@router.put("/preferences")
async def put_preferences(body: PreferencesBody, caller: CallerDep, components: ComponentsDep) -> Any:
    prefs = Preferences(
        frozenset(s.upper() for s in body.symbols), body.min_confidence, frozenset(body.channels)
    )
    async with components.pool.acquire() as conn:
        await repo.put_preferences(conn, caller.user_id, prefs)
    # Open connections on every replica route by the new preferences from now on.
    await components.bus.publish(preferences_notice(caller.user_id, prefs.as_data(), str(uuid.uuid4())))
    return ok(prefs.as_data())


@router.get("/webhooks")
async def list_webhooks(caller: CallerDep, components: ComponentsDep) -> Any:
    endpoints = await repo.list_endpoints(components.pool, caller.user_id)
    return ok([e.as_data() for e in endpoints])


@router.post("/webhooks", status_code=201)
async def create_webhook(body: WebhookBody, caller: CallerDep, components: ComponentsDep) -> Any:
    """Register an endpoint. The signing secret is in this answer only: it is never shown again."""
    settings = components.settings
    try:
        await addresses.check(body.url, allow_private=settings.webhooks_allow_private)
    except addresses.AddressRefused as exc:
        raise UnprocessableUrl(f"webhook URL refused: {exc}") from None
    secret = signing.new_secret()
    async with components.pool.acquire() as conn, conn.transaction():
        if await repo.count_endpoints(conn, caller.user_id) >= settings.notification_webhook_max_endpoints:
            raise Conflict(
                f"at most {settings.notification_webhook_max_endpoints} webhook endpoints per user"
            )
        endpoint = await repo.create_endpoint(conn, caller.user_id, body.url, body.description, secret)
    data = {**endpoint.as_data(), "secret": secret, "signature_header": signing.SIGNATURE_HEADER}
    return ok(data)


def _endpoint_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("webhook endpoint not found") from None


@router.delete("/webhooks/{endpoint_id}")
async def delete_webhook(endpoint_id: str, caller: CallerDep, components: ComponentsDep) -> Any:
    if not await repo.delete_endpoint(components.pool, caller.user_id, _endpoint_id(endpoint_id)):
        raise NotFound("webhook endpoint not found")
    return ok({"deleted": endpoint_id})


@router.post("/webhooks/{endpoint_id}/enable")
async def enable_webhook(endpoint_id: str, caller: CallerDep, components: ComponentsDep) -> Any:
    """Turn a disabled endpoint back on (its failure count starts again from zero)."""
    endpoint = await repo.enable_endpoint(components.pool, caller.user_id, _endpoint_id(endpoint_id))
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    return ok(endpoint.as_data())


@router.get("/deliveries")
async def list_deliveries(
    caller: CallerDep,
    components: ComponentsDep,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
) -> Any:
    """Recent webhook deliveries, newest first (``status=dead``: the dead letter)."""
    rows = await repo.list_deliveries(components.pool, caller.user_id, status=status, limit=limit)
    return ok(rows)


@router.get("/inbox")
async def list_notices(caller: CallerDep, components: ComponentsDep, limit: Limit = 50) -> Any:
    """Notices for the caller (e.g. a webhook endpoint disabled after repeated failures)."""
    return ok(await repo.list_notices(components.pool, caller.user_id, limit=limit))
