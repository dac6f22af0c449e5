"""The client's address, read correctly behind the trusted proxy (settings.TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind N trusted proxies the address the outermost of them saw: each proxy
    appends the address it received from to X-Forwarded-For, so the client is the N-th entry from
    the right. Entries further left were written by the client and prove nothing."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()]
    if len(forwarded) < hops or not _valid(forwarded[-hops]):
        return remote
    return forwarded[-hops]


def is_loopback_without_proxy(request: HttpRequest) -> bool:
    """A request made on this host directly (a container's own health check), not relayed by a proxy."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if "HTTP_X_FORWARDED_FOR" in request.META or not _valid(remote):
        return False
    return ipaddress.ip_address(remote).is_loopback
