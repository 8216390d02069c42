"""Outbound targets: the URLs we call because someone configured them (subscription endpoints,
the backend) must not reach into our own network.

Unless ALLOW_PRIVATE_TARGETS is set, an address that is not globally routable is refused:
loopback, private (RFC 1918, unique-local), link-local (where cloud metadata services live,
169.254.169.254), carrier-grade NAT (100.64/10, Alibaba's metadata), unspecified, reserved
and multicast, also when written as an IPv4-mapped IPv6 address. Hostnames are resolved when
a subscription is added (``check_url``), and every connection we open is checked again on the
address it actually reached (``guarded_session``), so a name that resolves elsewhere later
(DNS rebinding) is refused too. Proxies from the environment are not used for these calls:
the address checked is the one we talk to.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class TargetRefused(ValueError):
    """The URL points where we do not call; the message says why."""


def refused_address(address: str) -> str | None:
    """Why ``address`` (an IP) may not be called, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} ({kind.replace('_', '-')})"
    if not ip.is_global:
        return f"{ip} (not public)"
    return None


def check_url(url: str, allow_private: bool) -> None:
    """Refuse a URL we would not call (raises TargetRefused): not http(s), no host, or a host
    that is, or resolves to, a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the URL must be http:// or https:// with a host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise TargetRefused(f"cannot resolve {parts.hostname!r}: {error}") from None
    for *_, sockaddr in found:
        reason = refused_address(sockaddr[0])
        if reason:
            raise TargetRefused(
                f"{parts.hostname} is {reason}: private targets are not called "
                "(ALLOW_PRIVATE_TARGETS)"
            )


class _Guarded:
    """Checks the peer of every new connection before anything is sent on it."""

    def _new_conn(self):
        sock = super()._new_conn()
        reason = refused_address(sock.getpeername()[0])
        if reason:
            sock.close()
            raise TargetRefused(f"not called: {self.host} is {reason} (ALLOW_PRIVATE_TARGETS)")
        return sock


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def guarded_session(allow_private: bool) -> requests.Session:
    """A requests session for configured targets: every connection's address is checked
    (TargetRefused is raised by ``post``/``get``) unless private targets are allowed."""
    session = requests.Session()
    if not allow_private:
        session.trust_env = False
        session.mount("http://", _GuardedAdapter())
        session.mount("https://", _GuardedAdapter())
    return session
