"""Where webhooks may go: http(s) URLs whose host resolves to public addresses only.

Loopback, private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses are
refused unless the configuration allows private targets (local development). The check runs
when an endpoint is registered AND before every delivery, and the delivery then connects to the
address that was checked (see :mod:`notification_service.webhooks.delivery`), so a DNS answer
that changes between check and connect (DNS rebinding) cannot redirect it inside the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """The URL is not an allowed webhook target; the message says why (safe to show)."""


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def parse(url: str) -> SplitResult:
    """Syntax only: http(s), a host, no credentials, bounded length."""
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused("URL is too long")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for an invalid port
    except ValueError:
        raise AddressRefused("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("only http and https URLs are allowed")
    if not parts.hostname:
        raise AddressRefused("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("URL must not contain credentials")
    return parts


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise AddressRefused("host does not resolve") from None
    found: list[IPAddress] = []
    for _, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise AddressRefused("host does not resolve")
    return tuple(found)


async def check(url: str, *, allow_private: bool) -> Target:
    """The resolved, allowed target of ``url``; raises :class:`AddressRefused` otherwise.

    Every address the host resolves to must be allowed (a name with one private address among
    public ones is refused: the connection could land on either).
    """
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    if not allow_private and not all(is_public(a) for a in addresses):
        raise AddressRefused("URL points to a loopback, private or link-local address")
    return Target(parts, host, port, addresses)
