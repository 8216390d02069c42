"""The brand URLs a share link may point to (SHARE_LINK_TARGETS): checked when a link is made
and again at every redirect, so a link can never become an open redirect."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..settings import SettingsError

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Prefix:
    scheme: str
    host: str
    port: int
    path: str  # what the target's path must start with ("/" for any)

    def admits(self, scheme: str, host: str, port: int, path: str) -> bool:
        return (
            scheme == self.scheme
            and host == self.host
            and port == self.port
            and (path or "/").startswith(self.path)
        )


def _parts(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an absolute http(s) URL without credentials, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    if any(ch in url for ch in "\\\r\n\t\x00 "):
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], parts.path or "/"


def parse(setting: str) -> tuple[Prefix, ...]:
    """SHARE_LINK_TARGETS: comma-separated URL prefixes or bare hosts (https, any path)."""
    prefixes = []
    for entry in (e.strip() for e in setting.split(",")):
        if not entry:
            continue
        url = entry if "://" in entry else f"https://{entry}/"
        parts = _parts(url)
        if parts is None:
            raise SettingsError(f"SHARE_LINK_TARGETS: {entry!r} is not an http(s) URL or host")
        scheme, host, port, path = parts
        prefixes.append(Prefix(scheme, host, port, path))
    return tuple(prefixes)


def allowed(url: str, prefixes: tuple[Prefix, ...]) -> bool:
    parts = _parts(url)
    return parts is not None and any(p.admits(*parts) for p in prefixes)


def prefixes_of(app) -> tuple[Prefix, ...]:
    """The app's allow-list, parsed once."""
    cached = app.extensions.get("loyalty_social.share_targets")
    if cached is None:
        cached = app.extensions["loyalty_social.share_targets"] = parse(
            app.config["SHARE_LINK_TARGETS"]
        )
    return cached
