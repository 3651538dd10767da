"""gzip at the gateway: JSON of at least 1,000 bytes is compressed for clients that accept it,
smaller bodies and other clients get it as the service sent it; off when the catalog says so."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from cp_fleet.embedded import find_free_port
from cp_fleet.nginx_config import render_gateway_config
from cp_testing.fixtures import RunningNginx

from .test_gateway_config import _catalog
from .upstreams import http_echo_server


def _start(run_nginx: Callable[..., RunningNginx], **gateway: object) -> Iterator[RunningNginx]:
    gateway_port, echo_port, ws_port, down_port = (find_free_port() for _ in range(4))
    catalog = _catalog(gateway_port, echo_port, ws_port, down_port, **gateway)
    with http_echo_server(echo_port):
        nginx = run_nginx(render_gateway_config(catalog, access_log=Path("access.log")), gateway_port)
        yield nginx
        nginx.stop()


@pytest.fixture(scope="module")
def gateway(run_nginx: Callable[..., RunningNginx]) -> Iterator[RunningNginx]:
    yield from _start(run_nginx)


def _wire_bytes(url: str, accept: str | None) -> tuple[httpx.Response, bytes]:
    headers = {} if accept is None else {"Accept-Encoding": accept}
    with httpx.Client() as client:
        request = client.build_request("GET", url, headers=headers)
        if accept is None:
            del request.headers["Accept-Encoding"]
        response = client.send(request, stream=True)
        raw = b"".join(response.iter_raw())
        response.close()
    return response, raw


def _url(gateway: RunningNginx, pad: int) -> str:
    return f"{gateway.url}/api/v1/echo/items?pad={'a' * pad}"


def test_large_json_is_gzipped_for_a_client_that_accepts_it(gateway: RunningNginx) -> None:
    plain, plain_raw = _wire_bytes(_url(gateway, 3000), None)
    assert "content-encoding" not in plain.headers and len(plain_raw) > 3000
    packed, packed_raw = _wire_bytes(_url(gateway, 3000), "gzip, deflate")
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    unpacked = gzip.decompress(packed_raw)
    assert len(packed_raw) < len(unpacked) / 4
    assert json.loads(unpacked)["path"] == json.loads(plain_raw)["path"]


def test_a_body_under_1000_bytes_is_left_as_it_is(gateway: RunningNginx) -> None:
    response, raw = _wire_bytes(_url(gateway, 1), "gzip")
    assert len(raw) < 1000 and "content-encoding" not in response.headers
    assert json.loads(raw)["method"] == "GET"


def test_the_threshold_is_the_content_length(gateway: RunningNginx) -> None:
    """The echo body (it lists the request headers) grows one byte per byte of the path: find
    the pads around 1,000 bytes."""
    _, base = _wire_bytes(_url(gateway, 0), "gzip")
    pad = 1000 - len(base)
    below, _ = _wire_bytes(_url(gateway, pad - 1), "gzip")
    at, _ = _wire_bytes(_url(gateway, pad), "gzip")
    assert int(below.headers["content-length"]) == 999 and "content-encoding" not in below.headers
    assert at.headers.get("content-encoding") == "gzip"


def test_compression_can_be_turned_off(run_nginx: Callable[..., RunningNginx]) -> None:
    for nginx in _start(run_nginx, compression={"enabled": False}):
        response, raw = _wire_bytes(_url(nginx, 3000), "gzip")
        assert "content-encoding" not in response.headers and len(raw) > 3000
