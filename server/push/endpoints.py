"""Push endpoints: may the server POST to this URL?

A member hands us the URL and the server connects to it, so a URL that leads inside
(the server itself, its private network, a cloud metadata address) must never be
reached: not when the member subscribes, and not when the sender connects, because a
name's addresses can change in between (DNS rebinding).

Three rules keep the check and the connection in agreement:
- The URL is read by yarl, the parser aiohttp connects with (no second parser).
- Every address is read by the operating system's getaddrinfo(), which is what the
  connection itself uses: `2130706433`, `127.1`, `0x7f000001`, `0177.0.0.1`,
  `[::ffff:127.0.0.1]` and `localhost.` all come out as the loopback address here.
- At send time the sender's connector resolves names through GuardedResolver, so the
  addresses checked are the very addresses connected to; IP literals, which aiohttp
  connects to without a resolver, are checked by `refusal()` just before the request.

Settings (server/config.py):
- PUSH_ALLOW_LOCAL_ENDPOINTS: also allow loopback addresses and http:// (local test
  push services only). Private, link-local, reserved and multicast stay refused.
- PUSH_SERVICE_HOSTS: an allow-list of push-service host names, comma-separated; a
  leading `.` allows every subdomain; `browsers` stands for BROWSER_PUSH_SERVICES.
  Empty (the default) allows any host with only public addresses.
"""
import ipaddress
import socket

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from flask import current_app
from yarl import URL

# The push services of the browsers our members carry (PUSH_SERVICE_HOSTS=browsers):
# Chrome, Android WebView-based browsers, Samsung Internet, Opera and Edge on Android
# (Firebase Cloud Messaging), Firefox (Mozilla autopush), Safari (Apple), Edge on
# Windows (Windows Push Notification Services).
BROWSER_PUSH_SERVICES = (
    "fcm.googleapis.com", "android.googleapis.com",
    "updates.push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)
# IPv6 ranges that carry an IPv4 address inside: the IPv4 address is what is reached.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EndpointRefused(OSError):
    """The server will not connect to this push endpoint. `code` is stable (clients and
    tests match it); str() is an English sentence fit for a 422 field message.

    An OSError, so a refusal inside the HTTP client is a connection failure like any other."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def parse(text, allow_local=False):
    """The endpoint as yarl.URL, or raise EndpointRefused: https only (http too when
    allow_local), a host, no user name or password, no fragment, a valid port."""
    if not isinstance(text, str) or any(c <= " " or c == "\x7f" for c in text):
        raise EndpointRefused("endpoint_malformed",
                              "Must be a URL without spaces or control characters.")
    try:
        url = URL(text)
        host = url.raw_host
        url.port  # noqa: B018  (an out-of-range port raises here)
    except (ValueError, UnicodeError, TypeError):
        raise EndpointRefused("endpoint_malformed",
                              "Must be the push service URL the browser gave.") from None
    if not url.absolute or not host or url.user is not None or url.password is not None \
            or url.raw_fragment:
        raise EndpointRefused("endpoint_malformed", "Must be the push service URL the browser gave.")
    if url.scheme != "https" and not (allow_local and url.scheme == "http"):
        raise EndpointRefused("endpoint_not_https", "Must be an https:// URL.")
    return url


def host_allowed(host, allowed_hosts):
    """Whether `host` (a URL's raw host) is on the allow-list; an empty list allows all."""
    if not allowed_hosts:
        return True
    host = host.rstrip(".").lower()
    for entry in allowed_hosts:
        if entry.startswith("."):
            if host.endswith(entry) and len(host) > len(entry):
                return True
        elif host == entry:
            return True
    return False


def allow_local_endpoints(app=None):
    """PUSH_ALLOW_LOCAL_ENDPOINTS when it is set, else TESTING."""
    app = app or current_app
    value = app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"]
    return bool(app.testing) if value is None else bool(value)


def allowed_push_hosts(app=None):
    """PUSH_SERVICE_HOSTS as a tuple of host names ("" -> (): any public host)."""
    return allowed_hosts_setting((app or current_app).config["PUSH_SERVICE_HOSTS"])


def allowed_hosts_setting(value):
    """PUSH_SERVICE_HOSTS as a tuple of lower-case host names (see the module docstring)."""
    hosts = []
    for item in (value or "").split(",") if isinstance(value, str) else (value or ()):
        item = item.strip().lower().rstrip(".")
        if item == "browsers":
            hosts.extend(BROWSER_PUSH_SERVICES)
        elif item:
            hosts.append(item)
    return tuple(dict.fromkeys(hosts))


def address_refusal(address, allow_local=False):
    """Why the server must not connect to this IP address (a stable code), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return None if allow_local else "endpoint_loopback"
    if ip.is_multicast:
        return "endpoint_multicast"
    if ip.is_link_local:
        return "endpoint_link_local"
    if ip.is_unspecified or ip.is_reserved:
        return "endpoint_reserved"
    if ip.is_private or not ip.is_global:
        return "endpoint_private"
    return None


MESSAGES = {
    "endpoint_loopback": "Must be the URL of a public push service (this one is the server itself).",
    "endpoint_private": "Must be the URL of a public push service (this one is on a private network).",
    "endpoint_link_local": "Must be the URL of a public push service (this one is link-local).",
    "endpoint_reserved": "Must be the URL of a public push service (this address is reserved).",
    "endpoint_multicast": "Must be the URL of a public push service (this address is multicast).",
    "endpoint_not_allowed": "This server sends notifications only to known push services.",
    "endpoint_unresolvable": "The push service's name does not resolve; try again later.",
    "endpoint_not_https": "Must be an https:// URL.",
}


def _refuse(code):
    raise EndpointRefused(code, MESSAGES[code])


def _is_localhost_name(host):
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


def _numeric_address(host):
    """The address a numeric host (in any form getaddrinfo reads: `127.1`, `0x7f000001`)
    connects to, or None for a name."""
    try:
        info = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM,
                                  flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return info[0][4][0]


def check(text, allow_local=False, allowed_hosts=(), resolve=True):
    """Subscribe-time check. Returns the URL (yarl.URL) or raises EndpointRefused.

    resolve: look the name up now and refuse it when any of its addresses is refused
    (a name that answers with a public and a private address is refused: the connection
    could take either). The check is repeated at send time (refusal(), GuardedResolver)."""
    url = parse(text, allow_local)
    host = url.raw_host
    if not host_allowed(host, allowed_hosts):
        _refuse("endpoint_not_allowed")
    if _is_localhost_name(host):
        # RFC 6761: every resolver must answer these with a loopback address.
        numeric = "127.0.0.1"
    else:
        numeric = _numeric_address(host)
    if numeric is not None:
        code = address_refusal(numeric, allow_local)
        if code:
            _refuse(code)
        if url.scheme == "http" and address_refusal(numeric) != "endpoint_loopback":
            _refuse("endpoint_not_https")  # http:// only to a local test push service
        return url
    if url.scheme == "http":
        _refuse("endpoint_not_https")
    if not resolve:
        return url
    try:
        infos = socket.getaddrinfo(host, url.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        # A name that does not resolve now is let through: a DNS hiccup must not stop a
        # phone subscribing, and the sender checks the addresses it connects to anyway.
        return url
    for info in infos:
        code = address_refusal(info[4][0], allow_local)
        if code:
            _refuse(code)
    return url


def refusal(text, allow_local=False, allowed_hosts=()):
    """Send-time check without DNS (the resolver guards names): the stable code of why
    this endpoint must not be sent to, or None."""
    try:
        check(text, allow_local, allowed_hosts, resolve=False)
    except EndpointRefused as refused:
        return refused.code
    return None


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that drops every refused address from a name's answer, and
    refuses the name when nothing is left: the addresses checked are the ones aiohttp
    connects to, so a name that changes its answer after the check gains nothing."""

    def __init__(self, allow_local=False, resolver=None):
        self.allow_local = allow_local
        self._resolver = resolver

    async def resolve(self, host, port=0, family=socket.AF_INET):
        if self._resolver is None:
            self._resolver = DefaultResolver()  # needs the running loop
        results = await self._resolver.resolve(host, port, family=family)
        kept = [r for r in results if address_refusal(r["host"], self.allow_local) is None]
        if not kept:
            codes = {address_refusal(r["host"], self.allow_local) for r in results}
            code = sorted(codes - {None})[0] if codes - {None} else "endpoint_unresolvable"
            _refuse(code)
        return kept

    async def close(self):
        if self._resolver is not None:
            await self._resolver.close()
