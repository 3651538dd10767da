"""A real cp_common service for the auth fleet tests: it verifies access tokens itself.

Run by the fleet (``python tests/e2e/verifying_service.py``) with ``JWKS_URL`` and ``REDIS_URL``
from the catalog, it builds its app with the shared runtime like every service, so its verifier
(JWKS + Redis denylist) and its ``/api/v1/health`` are the ones every service gets.
"""

from __future__ import annotations

import sys

from fastapi import APIRouter, Depends

from cp_common.http import ok
from cp_common.http.envelope import Envelope
from cp_common.security import Principal, Role, current_principal, require_roles
from cp_common.service import ServiceSpec, main

router = APIRouter(prefix="/api/v1/verifying")


@router.get("/mine")
async def mine(principal: Principal = Depends(current_principal)) -> Envelope[dict[str, str]]:
    return ok({"user_id": principal.user_id, "role": principal.role.value})


@router.get("/admin")
async def admin_only(principal: Principal = Depends(require_roles(Role.ADMIN))) -> Envelope[dict[str, str]]:
    return ok({"user_id": principal.user_id})


SPEC = ServiceSpec(name="verifying", title="Verifying test service", uses_redis=True, routers=[router])

if __name__ == "__main__":
    sys.exit(main(SPEC))
