"""``/api/v1/auth/users``: user management, admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from auth_service.accounts import Accounts
from auth_service.api.deps import accounts
from auth_service.api.schemas import RoleChangeRequest, UserOut, UsersPage
from auth_service.domain.models import UserFilter
from cp_common.http import Envelope, ok
from cp_common.http.openapi import error_responses
from cp_common.http.params import text_query
from cp_common.security import Principal, Role, require_roles

router = APIRouter(prefix="/api/v1/auth/users", tags=["admin"])
admin_only = require_roles(Role.ADMIN)

MAX_PAGE = 200


@router.get("", response_model=Envelope[UsersPage])
async def list_users(
    role: Role | None = None,
    active: bool | None = None,
    email: Annotated[str | None, text_query(max_length=254, description="substring of the email")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    _: Principal = Depends(admin_only),
    flow: Accounts = Depends(accounts),
) -> object:
    where = UserFilter(role=role, is_active=active, email_contains=email.strip().lower() if email else None)
    users, total = await flow.list_users(where, limit=limit, offset=offset)
    return ok({"items": [u.public() for u in users], "total": total, "limit": limit, "offset": offset})


@router.get("/{user_id}", response_model=Envelope[UserOut])
async def get_user(
    user_id: str, _: Principal = Depends(admin_only), flow: Accounts = Depends(accounts)
) -> object:
    return ok((await flow.get(user_id)).public())


@router.put("/{user_id}/role", response_model=Envelope[UserOut], responses=error_responses(409))
async def change_role(
    user_id: str,
    body: RoleChangeRequest,
    admin: Principal = Depends(admin_only),
    flow: Accounts = Depends(accounts),
) -> object:
    return ok((await flow.change_role(admin, user_id, body.role)).public())


@router.post("/{user_id}/deactivate", response_model=Envelope[UserOut], responses=error_responses(409))
async def deactivate(
    user_id: str, admin: Principal = Depends(admin_only), flow: Accounts = Depends(accounts)
) -> object:
    return ok((await flow.set_active(admin, user_id, False)).public())


@router.post("/{user_id}/reactivate", response_model=Envelope[UserOut], responses=error_responses(409))
async def reactivate(
    user_id: str, admin: Principal = Depends(admin_only), flow: Accounts = Depends(accounts)
) -> object:
    return ok((await flow.set_active(admin, user_id, True)).public())
