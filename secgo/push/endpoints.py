"""The push endpoint allow-list: the server only ever calls known push services.

SECGO_PUSH_ALLOWED_HOSTS is a comma-separated list. A bare name (``fcm.googleapis.com``) or
a wildcard (``*.notify.windows.com``, subdomains only) allows HTTPS on port 443. A full
origin (``http://127.0.0.1:8123``) allows exactly that scheme, host and port (tests).
"""
import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
URL_CHARS = re.compile(r"^[A-Za-z0-9._~:/?#\[\]!$&'()*+,;=%-]+$")
MAX_LENGTH = 1000


def parse_allowed(value) -> list[tuple[str, str, int]]:
    """(scheme, host or *.suffix, port) for each entry of the allow-list."""
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value or "").split(",")
    entries = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        if "://" in item:
            parts = urlsplit(item)
            if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
                continue
            entries.append((parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]))
        else:
            entries.append(("https", item, 443))
    return entries


def safe_endpoint(endpoint, allowed) -> str | None:
    """The endpoint rebuilt from its checked parts when the allow-list admits it, else None.

    Refused: other schemes and hosts, user info, fragments, backslashes, spaces, non-ASCII,
    percent-encoded or trailing-dot host names, IP literals not listed exactly.
    """
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= MAX_LENGTH:
        return None
    if not URL_CHARS.match(endpoint) or "@" in endpoint:
        return None
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or parts.fragment or "#" in endpoint:
        return None
    host = parts.hostname or ""
    netloc = host if port is None else f"{host}:{port}"
    if parts.netloc.lower() != netloc or not HOST_RE.match(host):
        return None
    port = port or DEFAULT_PORTS[parts.scheme]
    for scheme, pattern, allowed_port in parse_allowed(allowed):
        if scheme != parts.scheme or port != allowed_port:
            continue
        if pattern.startswith("*."):
            suffix = pattern[1:]
            ok = host.endswith(suffix) and len(host) > len(suffix) and not _is_ip(host)
        else:
            ok = host == pattern
        if ok:
            default = DEFAULT_PORTS[scheme]
            origin = f"{scheme}://{host}" + ("" if port == default else f":{port}")
            path = parts.path or "/"
            return origin + path + (f"?{parts.query}" if parts.query else "")
    return None


def _is_ip(host: str) -> bool:
    return bool(re.match(r"^[0-9.]+$", host))


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (the port only when it is not the default)."""
    parts = urlsplit(url)
    port = parts.port
    default = DEFAULT_PORTS.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}" + ("" if port in (None, default) else f":{port}")
