"""The auth service as a :class:`ServiceSpec`: schema, migrations, routes, gRPC, start-up work.

Start-up (after the shared runtime has migrated the schema and opened PostgreSQL, Redis and
Kafka): load the signing keys (generating a first one in local/test mode), build the components,
install the in-process token verifier for the service's own protected routes, and create the
bootstrap admin, after making sure the Redis denylist holds every revocation in PostgreSQL.
Background work: re-read the key directory, rebuild the denylist whenever Redis lost it, delete
long-expired refresh tokens, revocations and lockouts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from auth_service import SCHEMA, grpc_api
from auth_service import repository as repo
from auth_service.accounts import Accounts
from auth_service.api import admin, api_keys, jwks, public
from auth_service.api.deps import COMPONENTS_KEY
from auth_service.bootstrap import ensure_bootstrap_admin
from auth_service.components import AuthComponents, build_components
from auth_service.settings import AuthSettings
from cp_common import topics
from cp_common.grpc import GrpcServer
from cp_common.service import Runtime, ServiceSpec, build_app

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
#: Refresh tokens are deleted this long after they expired.
EXPIRED_TOKEN_RETENTION = timedelta(days=1)


def _components(runtime: Runtime) -> AuthComponents:
    return runtime.extras[COMPONENTS_KEY]


async def _start(runtime: Runtime) -> None:
    settings = runtime.settings
    if not isinstance(settings, AuthSettings):
        raise TypeError("the auth service needs AuthSettings")
    components = build_components(settings, runtime.require_pool(), runtime.require_redis())
    runtime.extras[COMPONENTS_KEY] = components
    # The service's own routes verify tokens with the shared verifier, fed from the key ring.
    runtime.verifier = components.verifier
    await components.revocations.ensure_primed()
    await ensure_bootstrap_admin(Accounts(components), settings)


async def _listen_for_revocations(runtime: Runtime) -> None:
    listener = _components(runtime).revocation_listener
    if listener is not None:
        await listener.run()


async def _keep_denylist_primed(runtime: Runtime) -> None:
    components = _components(runtime)
    await components.revocations.keep_primed(components.settings.auth_denylist_check_interval_s)


async def _watch_keys(runtime: Runtime) -> None:
    components = _components(runtime)
    await components.keyring.watch(components.settings.auth_keys_reload_interval_s)


async def _prune_refresh_tokens(runtime: Runtime) -> None:
    components = _components(runtime)
    while True:
        await asyncio.sleep(components.settings.auth_prune_interval_s)
        try:
            cutoff = datetime.now(UTC) - EXPIRED_TOKEN_RETENTION
            async with components.pool.acquire() as conn:
                removed = await repo.delete_expired_refresh_tokens(conn, cutoff)
                removed += await repo.delete_expired_revocations(conn, cutoff)
                removed += await repo.delete_expired_lockouts(conn, cutoff)
            if removed:
                log.info("expired tokens, revocations and lockouts deleted", extra={"count": removed})
        except Exception:
            log.warning("refresh token pruning failed", exc_info=True)


def _grpc(runtime: Runtime, server: GrpcServer) -> None:
    grpc_api.register(_components(runtime), server)


SPEC = ServiceSpec(
    name="auth",
    title="CryptoPredict auth",
    schema=SCHEMA,
    migrations_dir=MIGRATIONS_DIR,
    uses_redis=True,
    uses_kafka=True,
    produces=[topics.USERS.name],
    routers=[public.router, admin.router, jwks.router, api_keys.router],
    grpc_services=_grpc,
    background_tasks=[_watch_keys, _keep_denylist_primed, _listen_for_revocations, _prune_refresh_tokens],
    on_startup=_start,
)


def create_app(settings: AuthSettings) -> FastAPI:
    return build_app(SPEC, settings)
