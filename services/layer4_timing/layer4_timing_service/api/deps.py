"""FastAPI dependencies: the service's components and the caller, counted against the seeds'
per-user limits (section 1.5: listing 200 / 60 s, detail 500 / 60 s, execute 10 / 60 s)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cp_common.security import Principal, current_principal, scopes
from cp_layer_kit.ratelimit import per_user_limit
from layer4_timing_service.components import COMPONENTS_KEY, TimingComponents


async def components(request: Request) -> TimingComponents:
    """``async``: FastAPI runs a plain ``def`` dependency in its thread pool (a hand-off per call)."""
    parts: TimingComponents = request.app.state.runtime.extras[COMPONENTS_KEY]
    return parts


Components = Annotated[TimingComponents, Depends(components)]
#: Any logged-in user (the seeds' ``get_current_user``); no per-user limit of its own.
UserCaller = Annotated[Principal, Depends(current_principal)]
ListCaller = Annotated[Principal, Depends(per_user_limit("layer4-signals", 200))]
DetailCaller = Annotated[Principal, Depends(per_user_limit("layer4-signal-detail", 500))]
#: Executing acts on the user's behalf: an API key's token needs the ``execute`` scope.
ExecuteCaller = Annotated[
    Principal, Depends(scopes.require_scope(scopes.EXECUTE, per_user_limit("layer4-execute", 10)))
]
FeedbackCaller = Annotated[Principal, Depends(per_user_limit("layer4-feedback", 60))]
