"""Render the gateway's ``nginx.conf`` from the catalog.

What the gateway does (architecture sections 2, 3 and 6):

- ``/health`` answered by Nginx itself (200, JSON envelope); every other path belongs to a service
  through its ``public_prefixes`` / ``websocket_prefixes`` (WebSocket upgrade); anything else is a
  JSON 404.
- Per-client-IP ``limit_req`` zones: ``api`` on HTTP routes, ``websocket`` on WebSocket routes,
  the stricter ``auth`` zone on ``gateway.strict_paths`` (login/register), and ``health`` on
  ``gateway.health_path`` (aggregated fleet readiness; every service answers it, so the gateway
  proxies it to all of them and skips one that is down).
- Errors Nginx produces itself (400, 403, 404, 405, 408, 413, 429, 500, 502, 503, 504) are answered
  in the project envelope ``{"success": false, "error": ..., "error_code": N, "timestamp": ...}``.
  A service's own error responses pass through untouched.
- ``X-Request-ID``: a well-formed incoming id is kept, otherwise Nginx's ``$request_id`` is used;
  it is forwarded upstream, returned to the client and logged.
- Security headers (nosniff, ``X-Frame-Options: DENY`` + CSP ``frame-ancestors 'none'``,
  ``Referrer-Policy: no-referrer``, ``Permissions-Policy``; HSTS on HTTPS when ``gateway.tls`` is
  set), request size and time limits.
- CORS from ``gateway.cors``: an allowed ``Origin`` is echoed with ``Vary: Origin``; preflights
  from allowed origins are answered by Nginx (204); services' own CORS headers are dropped.
- The gateway is the edge: ``X-Forwarded-For`` is set to the client address (not appended to),
  so a client cannot choose the address that services rate-limit by.
- JSON access log with the path only (``$uri``): no query string (WebSocket clients pass
  ``?token=``), no ``Authorization`` header, no cookies, no referrer.

Relative paths (pid file, temp directories) resolve against Nginx's ``-p`` prefix directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from cp_fleet.catalog import Catalog, GatewayEntry, RateLimitEntry, RateLimitsEntry, ServiceEntry

ERROR_MESSAGES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Request body too large",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway: the service is unavailable",
    503: "Service unavailable",
    504: "Gateway timeout: the service did not answer in time",
}

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, X-Request-ID"
CORS_EXPOSED = "X-Request-ID"

_ACCESS_LOG_FIELDS = (
    ('"time":"', "$time_iso8601", '"'),
    ('"request_id":"', "$cp_request_id", '"'),
    ('"remote_addr":"', "$remote_addr", '"'),
    ('"method":"', "$request_method", '"'),
    ('"path":"', "$uri", '"'),
    ('"status":', "$status", ""),
    ('"request_length":', "$request_length", ""),
    ('"bytes_sent":', "$body_bytes_sent", ""),
    ('"request_time":', "$request_time", ""),
    ('"upstream":"', "$upstream_addr", '"'),
    ('"upstream_status":"', "$upstream_status", '"'),
    ('"upstream_response_time":"', "$upstream_response_time", '"'),
    ('"user_agent":"', "$http_user_agent", '"'),
)


#: Every service's HTTP port: any of them answers ``gateway.health_path`` (the fleet's health).
HEALTH_UPSTREAM = "cp_fleet_health"


def bench_profile(catalog: Catalog) -> Catalog:
    """``catalog`` with every gateway rate limit lifted: the profile load benchmarks run with
    (``make bench``), never one to deploy."""
    lifted = RateLimitEntry(rate="1000000r/s", burst=100000)
    limits = RateLimitsEntry(api=lifted, websocket=lifted, auth=lifted, health=lifted)
    gateway = catalog.gateway.model_copy(update={"rate_limits": limits})
    return catalog.model_copy(update={"gateway": gateway})


def upstream_name(service: ServiceEntry) -> str:
    return "svc_" + service.name.replace("-", "_")


def error_body(status: int) -> str:
    """The JSON envelope Nginx answers with for ``status`` (``$time_iso8601`` filled in by Nginx)."""
    body = json.dumps(
        {"success": False, "error": ERROR_MESSAGES[status], "error_code": status, "timestamp": "@TS@"},
        separators=(",", ":"),
    )
    return body.replace("@TS@", "$time_iso8601")


def _quoted(text: str) -> str:
    if "'" in text or "\\" in text:
        raise ValueError(f"cannot embed {text!r} in nginx single quotes")
    return f"'{text}'"


def _owner_of(path: str, catalog: Catalog) -> ServiceEntry | None:
    """The service whose longest public prefix covers ``path``."""
    best: tuple[int, ServiceEntry] | None = None
    for service in catalog.services:
        for prefix in service.public_prefixes:
            if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), service)
    return best[1] if best else None


def _proxy_block(upstream: str, *, websocket: bool, read_timeout_s: int) -> list[str]:
    lines = [
        f"proxy_pass http://{upstream};",
        "proxy_http_version 1.1;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Request-ID $cp_request_id;",
    ]
    if websocket:
        lines += [
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $cp_connection_upgrade;",
            "proxy_buffering off;",
        ]
    else:
        lines.append('proxy_set_header Connection "";')
    lines += [f"proxy_read_timeout {read_timeout_s}s;", f"proxy_send_timeout {read_timeout_s}s;"]
    return lines


def _location(match: str, body: list[str]) -> list[str]:
    return [f"location {match} {{", *[f"    {line}" for line in body], "}"]


def _cors_http(gateway: GatewayEntry) -> list[str]:
    """Maps deciding, per request, the CORS header values (empty = header not sent)."""
    cors = gateway.cors
    if not cors.allowed_origins:
        return []
    origins = [f'    "{origin}" $http_origin;' for origin in cors.allowed_origins]
    lines = [
        "# CORS: an allowed Origin is echoed; anything else gets no CORS header at all.",
        "map $http_origin $cp_cors_origin {",
        '    default "";',
        *origins,
        "}",
        'map "$request_method|$cp_cors_origin|$http_access_control_request_method" $cp_cors_preflight {',
        '    default "";',
        '    "~^OPTIONS\\|[^|]+\\|.+$" 1;',
        "}",
    ]
    values = {
        "cp_cors_methods": CORS_METHODS,
        "cp_cors_headers": CORS_HEADERS,
        "cp_cors_max_age": str(cors.max_age_s),
    }
    for variable, value in values.items():
        lines += [f"map $cp_cors_preflight ${variable} {{", '    default "";', f'    1 "{value}";', "}"]
    lines += ["map $cp_cors_origin $cp_cors_exposed {", '    default "";', f'    "~." "{CORS_EXPOSED}";', "}"]
    if cors.allow_credentials:
        lines += ["map $cp_cors_origin $cp_cors_credentials {", '    default "";', '    "~." "true";', "}"]
    return lines


def _cors_server(gateway: GatewayEntry) -> list[str]:
    if not gateway.cors.allowed_origins:
        return []
    lines = [
        "add_header Vary Origin always;",
        "add_header Access-Control-Allow-Origin $cp_cors_origin always;",
        "add_header Access-Control-Expose-Headers $cp_cors_exposed always;",
        "add_header Access-Control-Allow-Methods $cp_cors_methods always;",
        "add_header Access-Control-Allow-Headers $cp_cors_headers always;",
        "add_header Access-Control-Max-Age $cp_cors_max_age always;",
    ]
    if gateway.cors.allow_credentials:
        lines.append("add_header Access-Control-Allow-Credentials $cp_cors_credentials always;")
    lines += [
        "# Preflight from an allowed origin: answered here, never reaches a service.",
        "if ($cp_cors_preflight) {",
        "    return 204;",
        "}",
    ]
    return lines


def _tls_server(gateway: GatewayEntry, listen_host: str) -> list[str]:
    tls = gateway.tls
    if tls is None:
        return []
    return [
        f"listen {listen_host}:{tls.port} ssl;",
        f"ssl_certificate {tls.certificate};",
        f"ssl_certificate_key {tls.certificate_key};",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_prefer_server_ciphers off;",
        "ssl_session_cache shared:cp_tls:10m;",
        "ssl_session_tickets off;",
        "add_header Strict-Transport-Security $cp_hsts always;",
    ]


def _tls_http(gateway: GatewayEntry) -> list[str]:
    if gateway.tls is None:
        return []
    return [
        "# HSTS only over HTTPS (browsers ignore it on plain HTTP, and it must not be sent there).",
        "map $scheme $cp_hsts {",
        '    default "";',
        f'    https "max-age={gateway.tls.hsts_max_age_s}; includeSubDomains";',
        "}",
    ]


def render_gateway_config(catalog: Catalog, *, access_log: Path, listen_host: str = "127.0.0.1") -> str:
    """The complete ``nginx.conf`` (main context) of the gateway described by ``catalog``."""
    gateway = catalog.gateway
    limits = gateway.rate_limits
    api_limit = f"limit_req zone=cp_api burst={limits.api.burst} nodelay;"
    ws_limit = f"limit_req zone=cp_websocket burst={limits.websocket.burst} nodelay;"
    auth_limit = f"limit_req zone=cp_auth burst={limits.auth.burst} nodelay;"
    health_limit = f"limit_req zone=cp_health burst={limits.health.burst} nodelay;"

    locations: list[str] = []
    locations += _location(
        "= /health",
        [
            "access_log off;",
            "default_type application/json;",
            "return 200 "
            + _quoted('{"success":true,"data":{"status":"healthy"},"timestamp":"$time_iso8601"}')
            + ";",
        ],
    )
    for path in gateway.strict_paths:
        owner = _owner_of(path, catalog)
        if owner is not None:
            proxy = _proxy_block(
                upstream_name(owner), websocket=False, read_timeout_s=gateway.proxy_read_timeout_s
            )
            locations += _location(f"= {path}", [auth_limit, *proxy])
    if catalog.services:
        # Every service answers the fleet's health; a service that is down is skipped.
        proxy = _proxy_block(HEALTH_UPSTREAM, websocket=False, read_timeout_s=gateway.proxy_read_timeout_s)
        locations += _location(
            f"= {gateway.health_path}", [health_limit, "proxy_next_upstream error timeout;", *proxy]
        )
    for service in catalog.services:
        for prefix in service.public_prefixes:
            proxy = _proxy_block(
                upstream_name(service), websocket=False, read_timeout_s=gateway.proxy_read_timeout_s
            )
            locations += _location(prefix, [api_limit, *proxy])
        for prefix in service.websocket_prefixes:
            proxy = _proxy_block(
                upstream_name(service), websocket=True, read_timeout_s=gateway.websocket_read_timeout_s
            )
            locations += _location(prefix, [ws_limit, *proxy])
    locations += _location("/", [api_limit, "return 404;"])
    for status in ERROR_MESSAGES:
        locations += _location(
            f"@cp_error_{status}",
            ["default_type application/json;", f"return {status} {_quoted(error_body(status))};"],
        )

    upstreams: list[str] = []
    if catalog.services:
        upstreams += [f"upstream {HEALTH_UPSTREAM} {{"]
        upstreams += [f"    server 127.0.0.1:{service.http_port};" for service in catalog.services]
        upstreams += ["    keepalive 4;", "}"]
    for service in catalog.services:
        upstreams += [
            f"upstream {upstream_name(service)} {{",
            f"    server 127.0.0.1:{service.http_port};",
            "    keepalive 16;",
            "}",
        ]

    log_format = "".join(f"{key}{value}{end}," for key, value, end in _ACCESS_LOG_FIELDS).rstrip(",")
    error_pages = [f"error_page {status} @cp_error_{status};" for status in ERROR_MESSAGES]
    server = [
        f"listen {listen_host}:{gateway.port};",
        *_tls_server(gateway, listen_host),
        "server_name _;",
        "",
        "add_header X-Request-ID $cp_request_id always;",
        "add_header X-Content-Type-Options nosniff always;",
        "add_header X-Frame-Options DENY always;",
        "add_header Content-Security-Policy \"frame-ancestors 'none'\" always;",
        "add_header Referrer-Policy no-referrer always;",
        f'add_header Permissions-Policy "{PERMISSIONS_POLICY}" always;',
        *_cors_server(gateway),
        "",
        *error_pages,
        "",
        *locations,
    ]
    http = [
        "server_tokens off;",
        "default_type application/json;",
        "sendfile off;",
        "keepalive_timeout 65s;",
        "",
        "client_body_temp_path client_body_temp;",
        "proxy_temp_path proxy_temp;",
        "fastcgi_temp_path fastcgi_temp;",
        "uwsgi_temp_path uwsgi_temp;",
        "scgi_temp_path scgi_temp;",
        "",
        f"client_max_body_size {gateway.client_max_body_size};",
        f"client_header_timeout {gateway.client_timeout_s}s;",
        f"client_body_timeout {gateway.client_timeout_s}s;",
        f"send_timeout {gateway.proxy_read_timeout_s}s;",
        f"proxy_connect_timeout {gateway.proxy_connect_timeout_s}s;",
        "proxy_intercept_errors off;  # a service's own error envelope passes through",
        "proxy_hide_header X-Request-ID;",
        "proxy_hide_header X-Frame-Options;",
        "proxy_hide_header X-Content-Type-Options;",
        "proxy_hide_header Referrer-Policy;",
        "proxy_hide_header Permissions-Policy;",
        "proxy_hide_header Strict-Transport-Security;",
        "proxy_hide_header Access-Control-Allow-Origin;",
        "proxy_hide_header Access-Control-Allow-Credentials;",
        "proxy_hide_header Access-Control-Expose-Headers;",
        "",
        "# A well-formed X-Request-ID from the client is kept; anything else gets a fresh id.",
        "map $http_x_request_id $cp_request_id {",
        "    default $request_id;",
        f'    "~{REQUEST_ID_PATTERN}" $http_x_request_id;',
        "}",
        "map $http_upgrade $cp_connection_upgrade {",
        "    default upgrade;",
        "    '' close;",
        "}",
        *_cors_http(gateway),
        *_tls_http(gateway),
        "",
        f"limit_req_zone $binary_remote_addr zone=cp_api:10m rate={limits.api.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_websocket:10m rate={limits.websocket.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_auth:10m rate={limits.auth.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_health:1m rate={limits.health.rate};",
        "limit_req_status 429;",
        "limit_req_log_level warn;",
        "",
        "# Path only: no query string (tokens), no Authorization header, no cookies, no referrer.",
        f"log_format cp_json escape=json '{{{log_format}}}';",
        f"access_log {access_log} cp_json;",
        "",
        *upstreams,
        "",
        "server {",
        *[f"    {line}" if line else "" for line in server],
        "}",
    ]
    main = [
        "# Rendered by cp_fleet from the service catalog (deploy/services.yaml). Do not edit.",
        f"worker_processes {gateway.worker_processes};",
        "pid nginx.pid;",
        "error_log stderr warn;",
        "",
        "events {",
        "    worker_connections 1024;",
        "}",
        "",
        "http {",
        *[f"    {line}" if line else "" for line in http],
        "}",
        "",
    ]
    return "\n".join(main)
