"""``GET /.well-known/jwks.json``: the public signing keys (RFC 7517), not wrapped in the envelope
because verifiers expect the standard document."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from auth_service.api.deps import components
from auth_service.components import AuthComponents

router = APIRouter(tags=["keys"])

#: Verifiers cache the set themselves and refetch on an unknown ``kid``; keep proxies brief.
CACHE_CONTROL = "public, max-age=60"


@router.get("/.well-known/jwks.json")
async def jwks(parts: AuthComponents = Depends(components)) -> JSONResponse:
    return JSONResponse(parts.keyring.jwks(), headers={"Cache-Control": CACHE_CONTROL})
