"""Render the gateway's ``nginx.conf`` from the catalog.

What the gateway does (architecture sections 2, 3 and 6):

- ``/health`` answered by Nginx itself (200, JSON envelope); every other path belongs to a service
  through its ``public_prefixes`` / ``websocket_prefixes`` (WebSocket upgrade); anything else is a
  JSON 404.
- Per-client-IP ``limit_req`` zones: ``api`` on HTTP routes, ``websocket`` on WebSocket routes,
  the stricter ``auth`` zone on ``gateway.strict_paths`` (login/register), and ``health`` on
  ``gateway.health_path`` (aggregated fleet readiness; every service answers it, so the gateway
  proxies it to all of them and skips one that is down).
- Every answer Nginx produces itself is the project envelope ``{"success": false, "error": ...,
  "error_code": N, "timestamp": ...}`` (:data:`ERROR_MESSAGES`), including requests rejected while
  the request line is read (a NUL, a lone ``%``, a raw space, ``..`` above the root): ``error_page``
  points at internal URI locations, never named ones, because a named location needs the request's
  URI and such a request has none. Oversized headers or cookies (Nginx's internal 494) are a 431.
  A service's own error responses pass through untouched.
- A prefix without its trailing slash (``/api/v1/market``) goes to the prefix's service like the
  prefix itself (no 301 from Nginx's automatic redirect).
- ``X-Request-ID``: a well-formed incoming id is kept, otherwise Nginx's ``$request_id`` is used;
  it is forwarded upstream, returned to the client and logged.
- Security headers (nosniff, ``X-Frame-Options: DENY`` + CSP ``frame-ancestors 'none'``,
  ``Referrer-Policy: no-referrer``, ``Permissions-Policy``; HSTS on HTTPS when ``gateway.tls`` is
  set), request size and time limits.
- CORS from ``gateway.cors``: an allowed ``Origin`` is echoed with ``Vary: Origin``; preflights
  from allowed origins are answered by Nginx (204); services' own CORS headers are dropped.
- The gateway is the edge: ``X-Forwarded-For`` is set to the client address (not appended to),
  so a client cannot choose the address that services rate-limit by.
- JSON access log with the path as the client sent it, never the query string (WebSocket clients pass
  ``?token=``), no ``Authorization`` header, no cookies, no referrer. Rate-limited answers are
  sampled: one 429 in ``logs.sample_429`` is written, with that number as its ``weight``
  (every other line weighs 1), and refusals are not repeated in the error log; the file itself
  is kept bounded by the fleet's ``gateway-logs`` program (:mod:`cp_fleet.log_rotation`).

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
    411: "Length required",
    413: "Request body too large",
    414: "Request URI too long",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway: the service is unavailable",
    503: "Service unavailable",
    504: "Gateway timeout: the service did not answer in time",
    505: "HTTP version not supported",
}
#: Nginx's internal code for oversized request headers or cookies (sent as 400 by default).
HEADER_TOO_LARGE = 494
#: Statuses Nginx raises internally, answered as another status (``error_page`` source -> answer).
ERROR_ALIASES = {HEADER_TOO_LARGE: 431}
#: Internal locations holding the error bodies: ``/_cp_error/<status>`` (clients get a 404).
ERROR_LOCATION_PREFIX = "/_cp_error/"

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
    ('"path":"', "$cp_log_path", '"'),
    ('"status":', "$status", ""),
    ('"request_length":', "$request_length", ""),
    ('"bytes_sent":', "$body_bytes_sent", ""),
    ('"request_time":', "$request_time", ""),
    ('"upstream":"', "$upstream_addr", '"'),
    ('"upstream_status":"', "$upstream_status", '"'),
    ('"upstream_response_time":"', "$upstream_response_time", '"'),
    ('"user_agent":"', "$http_user_agent", '"'),
    ('"weight":', "$cp_log_weight", ""),
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


def _error_pages() -> list[str]:
    """``error_page`` lines: every error Nginx raises goes to its internal envelope location."""
    pages = [f"error_page {status} {ERROR_LOCATION_PREFIX}{status};" for status in ERROR_MESSAGES]
    pages += [
        f"error_page {source} ={answer} {ERROR_LOCATION_PREFIX}{answer};"
        for source, answer in ERROR_ALIASES.items()
    ]
    return pages


def _error_locations() -> list[str]:
    """One internal exact location per status, answering the envelope (also for a request whose
    request line could not be parsed, which a named location cannot serve)."""
    lines: list[str] = []
    for status in ERROR_MESSAGES:
        lines += _location(
            f"= {ERROR_LOCATION_PREFIX}{status}",
            [
                "internal;",
                "default_type application/json;",
                f"return {status} {_quoted(error_body(status))};",
            ],
        )
    return lines


def _health_location() -> list[str]:
    return _location(
        "= /health",
        [
            "access_log off;",
            "default_type application/json;",
            "return 200 "
            + _quoted('{"success":true,"data":{"status":"healthy"},"timestamp":"$time_iso8601"}')
            + ";",
        ],
    )


def _exact_locations(catalog: Catalog) -> tuple[list[str], set[str]]:
    """Exact paths with their own zone: the strict (login/register) paths, each proxied to the
    service owning it, and the fleet health path, proxied to any service that answers (every
    service serves it). Returns the lines and the paths taken."""
    gateway = catalog.gateway
    limits = gateway.rate_limits
    zones = [
        (path, f"limit_req zone=cp_auth burst={limits.auth.burst} nodelay;") for path in gateway.strict_paths
    ]
    lines: list[str] = []
    taken: set[str] = set()
    if catalog.services:
        health = _proxy_block(HEALTH_UPSTREAM, websocket=False, read_timeout_s=gateway.proxy_read_timeout_s)
        health_limit = f"limit_req zone=cp_health burst={limits.health.burst} nodelay;"
        lines += _location(
            f"= {gateway.health_path}", [health_limit, "proxy_next_upstream error timeout;", *health]
        )
        taken.add(gateway.health_path)
    for path, limit in zones:
        owner = _owner_of(path, catalog)
        if owner is None or path in taken:
            continue
        proxy = _proxy_block(
            upstream_name(owner), websocket=False, read_timeout_s=gateway.proxy_read_timeout_s
        )
        lines += _location(f"= {path}", [limit, *proxy])
        taken.add(path)
    return lines, taken


def _prefix_locations(prefix: str, body: list[str], taken: set[str]) -> list[str]:
    """``location prefix`` and, for a prefix ending in ``/``, the same for the path without it:
    Nginx would otherwise answer that path with a 301 to the prefix."""
    lines = _location(prefix, body)
    bare = prefix.rstrip("/")
    if bare and bare != prefix and bare not in taken:
        lines += _location(f"= {bare}", body)
        taken.add(bare)
    return lines


def _service_locations(catalog: Catalog, taken: set[str]) -> list[str]:
    gateway = catalog.gateway
    limits = gateway.rate_limits
    api_limit = f"limit_req zone=cp_api burst={limits.api.burst} nodelay;"
    ws_limit = f"limit_req zone=cp_websocket burst={limits.websocket.burst} nodelay;"
    lines: list[str] = []
    for service in catalog.services:
        upstream = upstream_name(service)
        http = _proxy_block(upstream, websocket=False, read_timeout_s=gateway.proxy_read_timeout_s)
        for prefix in service.public_prefixes:
            lines += _prefix_locations(prefix, [api_limit, *http], taken)
        ws = _proxy_block(upstream, websocket=True, read_timeout_s=gateway.websocket_read_timeout_s)
        for prefix in service.websocket_prefixes:
            lines += _prefix_locations(prefix, [ws_limit, *ws], taken)
    lines += _location("/", [api_limit, "return 404;"])
    return lines


#: Idle connections kept to each service, per worker, and how long and how often they are reused.
#: A new upstream connection is expensive here: under load a service answers the first request
#: on a fresh connection late (uvloop accepts it promptly but serves it behind the busy ones:
#: 200 new connections to a saturated service got their first answer after 2 s, the last after
#: 3.9 s), so the gateway keeps as many as it uses at 256 connections instead of 16, and does not
#: retire them after nginx's default 1,000 requests. The services keep an idle connection 75 s
#: (cp_common.service), longer than the gateway's 60 s, so nginx never reuses one being closed.
_UPSTREAM_KEEPALIVE = ("    keepalive 256;", "    keepalive_requests 100000;", "    keepalive_timeout 60s;")


def _upstreams(catalog: Catalog) -> list[str]:
    lines: list[str] = []
    if catalog.services:
        lines += [f"upstream {HEALTH_UPSTREAM} {{"]
        lines += [f"    server 127.0.0.1:{service.http_port};" for service in catalog.services]
        lines += ["    keepalive 4;", "}"]
    for service in catalog.services:
        lines += [
            f"upstream {upstream_name(service)} {{",
            f"    server 127.0.0.1:{service.http_port};",
            *_UPSTREAM_KEEPALIVE,
            "}",
        ]
    return lines


def _security_headers() -> list[str]:
    return [
        "add_header X-Request-ID $cp_request_id always;",
        "add_header X-Content-Type-Options nosniff always;",
        "add_header X-Frame-Options DENY always;",
        "add_header Content-Security-Policy \"frame-ancestors 'none'\" always;",
        "add_header Referrer-Policy no-referrer always;",
        f'add_header Permissions-Policy "{PERMISSIONS_POLICY}" always;',
    ]


def _server(catalog: Catalog, listen_host: str) -> list[str]:
    """The ``server`` block's body: listeners, headers, error pages and locations."""
    gateway = catalog.gateway
    exact, taken = _exact_locations(catalog)
    return [
        f"listen {listen_host}:{gateway.port};",
        *_tls_server(gateway, listen_host),
        "server_name _;",
        "",
        *_security_headers(),
        *_cors_server(gateway),
        "",
        *_error_pages(),
        "",
        *_health_location(),
        *exact,
        *_service_locations(catalog, taken),
        *_error_locations(),
    ]


def _limits_and_timeouts(gateway: GatewayEntry) -> list[str]:
    return [
        f"client_max_body_size {gateway.client_max_body_size};",
        f"client_header_timeout {gateway.client_timeout_s}s;",
        f"client_body_timeout {gateway.client_timeout_s}s;",
        f"send_timeout {gateway.proxy_read_timeout_s}s;",
        f"proxy_connect_timeout {gateway.proxy_connect_timeout_s}s;",
    ]


def _proxy_hidden_headers() -> list[str]:
    hidden = (
        "X-Request-ID",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Permissions-Policy",
        "Strict-Transport-Security",
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Expose-Headers",
    )
    return [f"proxy_hide_header {name};" for name in hidden]


def _rate_limit_zones(gateway: GatewayEntry) -> list[str]:
    limits = gateway.rate_limits
    return [
        f"limit_req_zone $binary_remote_addr zone=cp_api:10m rate={limits.api.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_websocket:10m rate={limits.websocket.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_auth:10m rate={limits.auth.rate};",
        f"limit_req_zone $binary_remote_addr zone=cp_health:1m rate={limits.health.rate};",
        "limit_req_status 429;",
        "# Below error_log's level: a flood of refusals must not write one error line each (the",
        "# sampled access log records them).",
        "limit_req_log_level info;",
    ]


def _split_percent(one_in: int) -> str:
    """``split_clients`` share of one request in ``one_in`` (two decimals at most, like 0.01%)."""
    return f"{100 / one_in:.2f}".rstrip("0").rstrip(".") + "%"


def _access_log(access_log: Path, sample_429: int) -> list[str]:
    log_format = "".join(f"{key}{value}{end}," for key, value, end in _ACCESS_LOG_FIELDS).rstrip(",")
    lines = [
        f"# One 429 in {sample_429} is logged, with that weight; every other answer is logged.",
        "map $status $cp_log_weight {",
        "    default 1;",
        f"    429 {sample_429};",
        "}",
    ]
    if sample_429 > 1:
        lines += [
            'split_clients "${request_id}" $cp_log_sampled {',
            f"    {_split_percent(sample_429)} 1;",
            "    * 0;",
            "}",
            'map "$status:$cp_log_sampled" $cp_loggable {',
            "    default 1;",
            '    "429:0" 0;',
            "}",
        ]
    else:
        lines += ["map $status $cp_loggable {", "    default 1;", "}"]
    return [
        *lines,
        "# Path only: no query string (tokens), no Authorization header, no cookies, no referrer.",
        "# From the request line, not $uri, which names the internal error location on errors.",
        "map $request_uri $cp_log_path {",
        '    default "";',
        '    "~^(?<cp_path_part>[^?]*)" $cp_path_part;',
        "}",
        f"log_format cp_json escape=json '{{{log_format}}}';",
        f"access_log {access_log} cp_json if=$cp_loggable;",
    ]


#: Compressed media types (``text/html`` always is, by Nginx itself, and no service sends it).
COMPRESSED_TYPES = ("application/json", "application/problem+json")


def _compression(gateway: GatewayEntry) -> list[str]:
    """gzip of proxied JSON of at least ``min_length`` bytes, for clients that accept it."""
    entry = gateway.compression
    if not entry.enabled:
        return ["gzip off;"]
    return [
        "gzip on;",
        f"gzip_min_length {entry.min_length};",
        f"gzip_comp_level {entry.level};",
        f"gzip_types {' '.join(COMPRESSED_TYPES)};",
        "gzip_proxied any;  # every response here is proxied",
        "gzip_vary on;",
    ]


def _http(catalog: Catalog, access_log: Path, listen_host: str) -> list[str]:
    """The ``http`` block's body."""
    gateway = catalog.gateway
    return [
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
        *_limits_and_timeouts(gateway),
        "proxy_intercept_errors off;  # a service's own error envelope passes through",
        *_proxy_hidden_headers(),
        *_compression(gateway),
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
        *_rate_limit_zones(gateway),
        "",
        *_access_log(access_log, catalog.logs.sample_429),
        "",
        *_upstreams(catalog),
        "",
        "server {",
        *_indented(_server(catalog, listen_host)),
        "}",
    ]


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" if line else "" for line in lines]


def render_gateway_config(catalog: Catalog, *, access_log: Path, listen_host: str = "127.0.0.1") -> str:
    """The complete ``nginx.conf`` (main context) of the gateway described by ``catalog``."""
    main = [
        "# Rendered by cp_fleet from the service catalog (deploy/services.yaml). Do not edit.",
        f"worker_processes {catalog.gateway.worker_processes};",
        "pid nginx.pid;",
        "error_log stderr warn;",
        "",
        "events {",
        "    worker_connections 1024;",
        "}",
        "",
        "http {",
        *_indented(_http(catalog, access_log, listen_host)),
        "}",
        "",
    ]
    return "\n".join(main)
