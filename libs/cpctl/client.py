"""The public API over HTTP: the envelope unwrapped, errors turned into :class:`CliError` with
the right exit code, and the session refreshed once when the access token has expired."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from cpctl.config import DEFAULT_GATEWAY, Session, SessionStore
from cpctl.errors import CliError, ExitCode

#: The gateway's own answer for a path no service serves (its catch-all location).
GATEWAY_NOT_FOUND = "Not found"
TIMEOUT_SECONDS = 30.0
API_KEY_EXCHANGE_PATH = "/api/v1/auth/api-keys/token"


class ApiClient:
    def __init__(self, store: SessionStore, gateway: str | None = None) -> None:
        self.store = store
        self.session = store.load()
        self.gateway = (gateway or (self.session.gateway if self.session else DEFAULT_GATEWAY)).rstrip("/")
        self._http = httpx.Client(base_url=self.gateway, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._http.close()

    def require_session(self) -> Session:
        if self.session is None:
            raise CliError("not logged in: run `cpctl login`", ExitCode.NOT_LOGGED_IN)
        return self.session

    def call(
        self,
        method: str,
        path: str,
        *,
        service: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        authenticated: bool = True,
    ) -> Any:
        """``data`` of the envelope; ``service`` names who serves ``path`` (for error messages)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._send(method, path, query, body, authenticated)
        if response.status_code == 401 and authenticated and self._refresh():
            response = self._send(method, path, query, body, authenticated)
        return unwrap(response, service)

    def _send(
        self, method: str, path: str, params: dict[str, Any], body: Any, authenticated: bool
    ) -> httpx.Response:
        headers = {}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.require_session().access_token}"
        try:
            return self._http.request(method, path, params=params, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise CliError(
                f"cannot reach the gateway at {self.gateway}: {exc}", ExitCode.UNREACHABLE
            ) from None

    def _refresh(self) -> bool:
        """Trade the stored refresh token for a new pair (an API key for a new token); False if
        that is not possible."""
        if self.session is None:
            return False
        if self.session.api_key:
            return self._exchange_again(self.session.api_key)
        try:
            response = self._http.post(
                "/api/v1/auth/refresh", json={"refresh_token": self.session.refresh_token}
            )
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            return False
        tokens = response.json()["data"]
        self.session = replace(
            self.session, access_token=tokens["access_token"], refresh_token=tokens["refresh_token"]
        )
        self.store.save(self.session)
        return True

    def exchange(self, api_key: str) -> dict[str, Any]:
        """An access token for ``api_key`` (``data`` of ``/api/v1/auth/api-keys/token``)."""
        response = self._send("POST", API_KEY_EXCHANGE_PATH, {}, {"api_key": api_key}, authenticated=False)
        return unwrap(response, "auth")

    def me(self, access_token: str) -> dict[str, Any]:
        """The account of ``access_token`` (before it is this client's session)."""
        response = self._http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"})
        return unwrap(response, "auth")

    def _exchange_again(self, api_key: str) -> bool:
        assert self.session is not None
        try:
            token = self.exchange(api_key)
        except CliError:
            return False
        self.session = replace(self.session, access_token=token["access_token"])
        self.store.save(self.session)
        return True


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return response.reason_phrase


def unwrap(response: httpx.Response, service: str) -> Any:
    if response.is_success:
        try:
            body = response.json()
        except ValueError:
            raise CliError(f"the {service} service answered something that is not JSON") from None
        return body.get("data") if isinstance(body, dict) and "success" in body else body
    raise error_for(response.status_code, _error_message(response), service)


def error_for(status: int, message: str, service: str) -> CliError:
    if status == 404 and message == GATEWAY_NOT_FOUND:
        return CliError(
            f"this is not served by the gateway yet: the {service} service is not deployed (404)",
            ExitCode.UNAVAILABLE,
        )
    if status in (502, 503, 504):
        return CliError(f"the {service} service is unavailable ({status}): {message}", ExitCode.UNAVAILABLE)
    codes = {
        401: ExitCode.NOT_LOGGED_IN,
        403: ExitCode.FORBIDDEN,
        404: ExitCode.NOT_FOUND,
        429: ExitCode.RATE_LIMITED,
    }
    hint = " (run `cpctl login`)" if status == 401 else ""
    return CliError(f"{message} ({status}){hint}", codes.get(status, ExitCode.API_ERROR))
