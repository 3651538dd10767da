"""``/api/v1/notifications/*``: the caller's preferences, webhook endpoints, browser push
subscriptions, deliveries and inbox.

Every route needs a valid access token (any role) except the VAPID public key (public by
nature); a user sees and changes only their own data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cp_common.errors import Conflict, NotFound, ServiceError
from cp_common.http import ok
from cp_common.http.openapi import error_responses
from notification_service import repository as repo
from notification_service.api.deps import CallerDep, ComponentsDep
from notification_service.api.schemas import PreferencesBody, PushSubscriptionBody, WebhookBody
from notification_service.connection import Preferences
from notification_service.notices import preferences_notice
from notification_service.webhooks import addresses, signing
from notification_service.webpush.subscriptions import check_endpoint

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


@router.post("/webhooks", status_code=201, responses=error_responses(409))
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


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def _endpoint_id(value: str) -> uuid.UUID:
    return _uuid(value, "webhook endpoint")


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


@router.get("/vapid-public-key")
async def vapid_public_key(components: ComponentsDep) -> Any:
    """The ``applicationServerKey`` for ``PushManager.subscribe()`` (base64url of the
    uncompressed P-256 point). Public: it identifies this server to push services."""
    key = components.vapid.public_key
    return ok({"public_key": key, "application_server_key": key})


@router.post("/subscribe", status_code=201, responses=error_responses(409))
async def subscribe(body: PushSubscriptionBody, caller: CallerDep, components: ComponentsDep) -> Any:
    """Store the browser's ``PushSubscription`` (``subscription.toJSON()``); signal alerts the
    caller's preferences select (channel ``webpush``) are then pushed to it. An endpoint already
    stored is replaced (a browser re-subscribing, possibly for another user). ``endpoint`` must
    be an https URL of a public host (at most 2,048 characters); ``keys.p256dh`` base64url of a
    65-byte P-256 point, ``keys.auth`` base64url of 16 bytes; at most
    ``NOTIFICATION_PUSH_MAX_SUBSCRIPTIONS`` (10) per user."""
    settings = components.settings
    try:
        await check_endpoint(body.endpoint, settings)
    except addresses.AddressRefused as exc:
        raise UnprocessableUrl(f"push endpoint refused: {exc}") from None
    expires = (
        datetime.fromtimestamp(body.expiration_time / 1000, UTC) if body.expiration_time is not None else None
    )
    most = settings.notification_push_max_subscriptions
    async with components.pool.acquire() as conn, conn.transaction():
        if await repo.count_other_push_subscriptions(conn, caller.user_id, body.endpoint) >= most:
            raise Conflict(f"at most {most} push subscriptions per user")
        saved = await repo.save_push_subscription(
            conn, caller.user_id, body.endpoint, (body.keys.p256dh, body.keys.auth), expires
        )
    return ok(saved.as_data())


@router.get("/subscriptions")
async def list_subscriptions(caller: CallerDep, components: ComponentsDep) -> Any:
    """The caller's push subscriptions (endpoints, not keys)."""
    found = await repo.list_push_subscriptions(components.pool, caller.user_id)
    return ok([s.as_data() for s in found])


@router.delete("/subscriptions/{subscription_id}")
async def unsubscribe(subscription_id: str, caller: CallerDep, components: ComponentsDep) -> Any:
    """Remove one of the caller's subscriptions; its pending deliveries are dead-lettered."""
    wanted = _uuid(subscription_id, "push subscription")
    async with components.pool.acquire() as conn, conn.transaction():
        removed = await repo.remove_push_subscription(
            conn, wanted, user_id=caller.user_id, reason="unsubscribed"
        )
    if not removed:
        raise NotFound("push subscription not found")
    return ok({"deleted": subscription_id})


@router.get("/deliveries")
async def list_deliveries(
    caller: CallerDep,
    components: ComponentsDep,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
) -> Any:
    """Recent deliveries (webhook and web push: ``channel``), newest first (``status=dead``: the
    dead letter)."""
    rows = await repo.list_deliveries(components.pool, caller.user_id, status=status, limit=limit)
    return ok(rows)


@router.get("/inbox")
async def list_notices(caller: CallerDep, components: ComponentsDep, limit: Limit = 50) -> Any:
    """Notices for the caller (e.g. a webhook endpoint disabled after repeated failures)."""
    return ok(await repo.list_notices(components.pool, caller.user_id, limit=limit))
