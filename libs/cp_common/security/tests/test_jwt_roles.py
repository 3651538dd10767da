"""current_principal / require_roles on a small FastAPI app with the shared error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI

from cp_common.context import caller_var
from cp_common.http.error_handlers import install_error_handlers
from cp_common.security import JwtVerifier, Principal, Role, current_principal, require_roles

from .conftest import TokenFactory


def build_app(verifier: JwtVerifier | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.jwt_verifier = verifier

    @app.get("/me")
    async def me(principal: Principal = Depends(current_principal)) -> dict[str, str | None]:
        return {"user_id": principal.user_id, "role": principal.role, "caller": caller_var.get()}

    @app.get("/admin")
    async def admin_only(principal: Principal = Depends(require_roles(Role.ADMIN))) -> dict[str, str]:
        return {"user_id": principal.user_id}

    @app.get("/signals")
    async def traders(
        principal: Principal = Depends(require_roles("admin", "professional")),
    ) -> dict[str, str]:
        return {"role": principal.role}

    return app


@pytest.fixture
async def client(verifier: JwtVerifier) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_principal_from_a_valid_token(client: httpx.AsyncClient, make_token: TokenFactory) -> None:
    response = await client.get("/me", headers=bearer(make_token(sub="user-9", role="casual")))
    assert response.status_code == 200
    assert response.json() == {"user_id": "user-9", "role": "casual", "caller": "user-9"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
    ],
)
async def test_missing_credentials_are_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False and body["error_code"] == 401
    assert response.headers.get("www-authenticate") == "Bearer"


async def test_invalid_token_is_401_and_not_echoed(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = make_token(aud="someone-else")
    response = await client.get("/admin", headers=bearer(token))
    assert response.status_code == 401
    assert token not in response.text


async def test_role_not_allowed_is_403(client: httpx.AsyncClient, make_token: TokenFactory) -> None:
    response = await client.get("/admin", headers=bearer(make_token(role="professional")))
    assert response.status_code == 403
    assert response.json()["error"] == "Admin privileges required"

    response = await client.get("/signals", headers=bearer(make_token(role="casual")))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "role"), [("/admin", "admin"), ("/signals", "admin"), ("/signals", "professional")]
)
async def test_allowed_role_is_200(
    client: httpx.AsyncClient, make_token: TokenFactory, path: str, role: str
) -> None:
    response = await client.get(path, headers=bearer(make_token(role=role)))
    assert response.status_code == 200


async def test_unconfigured_verifier_is_a_server_error(make_token: TokenFactory) -> None:
    transport = httpx.ASGITransport(app=build_app(None))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        response = await c.get("/me", headers=bearer(make_token()))
    assert response.status_code == 500


def test_unknown_role_fails_at_declaration() -> None:
    with pytest.raises(ValueError):
        require_roles("superuser")
    with pytest.raises(ValueError):
        require_roles()
