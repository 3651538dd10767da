"""Hot reads answered in front of the framework, from the answers their routes already cached.

The hot GETs (candles, ``/me``, the regime, the signal listing) keep their answers pre-serialised
(:class:`~cp_common.http.read_cache.PreserialisedCache`); what a cached read still cost was the
framework: routing through every router, FastAPI's dependency resolution and parameter
validation, the request and response objects (docs/performance.md). :class:`HotReadsMiddleware`
serves a cached answer before all of that, and only where the route itself would serve the same
bytes:

- A route opts in by answering through :func:`hot_read`. Its cache key is the request itself:
  the path and the raw query string (and the caller, for per-caller answers), so an answer is
  only ever served again to the request it was built for, after the route validated that
  request in full.
- :func:`hot_read` also records how the route admitted the caller, from what the security
  dependencies left on ``request.state``: a verified token or none, the roles and scopes it
  required, its per-user limit (:class:`HotRoute`).
- The middleware, for a GET of a path a route answered that way, admits the caller the same
  way without a round trip: the token's principal from the verifier's token cache (so pushed
  revocations and the cache's bounds apply unchanged), the roles and scopes, one call of the
  limit's local reservation. Then it sends the cached answer in a fresh envelope.
- Anything it cannot decide on the spot goes on to the route, which answers as it always did:
  no token or an unknown one, a role or scope that does not fit, a limit with no reservation
  left (or refused), a miss, another method.

The route template is put on the scope, so metrics and the access log label a fast answer like
any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from cp_common.cache import RateLimiter
from cp_common.context import caller_var
from cp_common.http.envelope import success_body
from cp_common.http.read_cache import PreserialisedCache
from cp_common.metrics import HTTP_HOT_READS
from cp_common.security.principal import Principal, Role
from cp_common.security.scopes import allows
from cp_common.security.token_cache import VerifiedTokenCache

#: Distinct paths remembered (candles per symbol, the layers' few routes); past it, start over.
MAX_PATHS = 4096
_AUTHORIZATION = b"authorization"
_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class HotRoute:
    """How a route answered a hot read: its cache, and how it admitted the caller."""

    route: Any  # the framework's route object (its template labels metrics and logs)
    cache: PreserialisedCache
    #: The verified tokens; ``None``: the route answered without a caller (public reads).
    tokens: VerifiedTokenCache | None
    roles: frozenset[Role] | None
    scopes: tuple[str, ...]
    limiter: RateLimiter | None
    per_caller: bool
    answered: Counter  # this route's child of HTTP_HOT_READS

    def caller(self, scope: Scope) -> tuple[bool, Principal | None]:
        """(admitted, the caller): whether the route would admit the request's caller, checked on
        the spot (the caller is ``None`` for a public read). Not admitted: the route decides (no
        token, one the cache does not know, a role or scope that does not fit)."""
        if self.tokens is None:
            return True, None
        token = _bearer_token(scope)
        principal = self.tokens.get(token) if token else None
        if principal is None:
            return False, None
        if self.roles is not None and principal.role not in self.roles:
            return False, None
        return all(allows(principal, s) for s in self.scopes), principal

    def counted(self, principal: Principal | None) -> bool:
        """One call counted against the route's limit from the local reservation (``False``:
        none left or refused: the route counts it, with Redis, and answers 429 if need be)."""
        if self.limiter is None or principal is None:
            return True
        return self.limiter.take_reserved(principal.user_id)


def _bearer_token(scope: Scope) -> str | None:
    """The credentials of ``Authorization: Bearer <token>``, parsed as FastAPI's HTTPBearer does."""
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


def _key(path: str, query: bytes, principal: Principal | None, per_caller: bool) -> Hashable:
    return (path, query, principal.user_id if per_caller and principal is not None else None)


class HotRoutes:
    """The paths answered by :func:`hot_read` in one app, learned as the routes answer them."""

    def __init__(self) -> None:
        self._by_path: dict[str, HotRoute] = {}
        #: Answers this app's middleware sent (``http_hot_read_answers_total`` counts them per route
        #: across every app of the process; tests run several apps in one).
        self.served = 0

    def get(self, path: str) -> HotRoute | None:
        return self._by_path.get(path)

    def learn(self, path: str, hot: HotRoute) -> None:
        if self._by_path.get(path) == hot:
            return
        if len(self._by_path) >= MAX_PATHS:
            self._by_path.clear()
        self._by_path[path] = hot


class HotReadsMiddleware:
    """Serves cached hot reads (see the module docstring); everything else passes through."""

    def __init__(self, app: ASGIApp, routes: HotRoutes) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not await self._served(scope, send):
            await self.app(scope, receive, send)

    async def _served(self, scope: Scope, send: Send) -> bool:
        path = scope["path"]
        hot = self.routes.get(path)
        if hot is None:
            return False
        admitted, principal = hot.caller(scope)
        if not admitted:
            return False
        data = hot.cache.get(_key(path, scope["query_string"], principal, hot.per_caller))
        if data is None or not hot.counted(principal):
            return False
        if principal is not None:
            caller_var.set(principal.user_id)
        scope["route"] = hot.route
        body = success_body(data)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), *_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.routes.served += 1
        hot.answered.inc()
        return True


def _route_policy(request: Request) -> tuple[Principal | None, frozenset[Role] | None, tuple[str, ...], Any]:
    state = request.state
    return (
        getattr(state, "principal", None),
        getattr(state, "allowed_roles", None),
        tuple(getattr(state, "required_scopes", ())),
        getattr(state, "rate_limiters", ()),
    )


async def hot_read(
    request: Request,
    cache: PreserialisedCache,
    build: Callable[[], Awaitable[bytes]],
    *,
    per_caller: bool = False,
) -> Response:
    """Answer a GET from ``cache`` (built by ``build`` on a miss, as
    :meth:`PreserialisedCache.answer`), keyed by the request, and let the middleware answer the
    same request again on its own. ``per_caller``: the answer depends on who asks (``/me``)."""
    principal, roles, scopes, limiters = _route_policy(request)
    key = _key(request.scope["path"], request.scope["query_string"], principal, per_caller)
    response = await cache.answer(key, build)
    routes = getattr(request.app.state, "hot_reads", None)
    verifier = getattr(request.app.state, "jwt_verifier", None)
    tokens = getattr(verifier, "cache", None)
    fits = (
        len(limiters) <= 1
        and (principal is None or tokens is not None)
        and not (per_caller and principal is None)
    )
    if isinstance(routes, HotRoutes) and fits and request.method == "GET":
        hot = HotRoute(
            route=request.scope.get("route"),
            cache=cache,
            tokens=tokens if principal is not None else None,
            roles=roles,
            scopes=scopes,
            limiter=limiters[0] if limiters else None,
            per_caller=per_caller,
            answered=HTTP_HOT_READS.labels(getattr(request.scope.get("route"), "path", "unmatched")),
        )
        routes.learn(request.scope["path"], hot)
    return response
