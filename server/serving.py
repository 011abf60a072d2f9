"""Serving over HTTP: what gunicorn itself writes, and bodies too large to take.

- No client address in any log line (issue 9, kind 5): gunicorn's error log writes
  "Invalid request from ip=..." for malformed requests, and a traceback may quote one.
  `NoAddresses` removes every IP address from a record before any handler writes it;
  gunicorn.conf.py installs it on gunicorn's logs through `GunicornLogger`, and
  `init_app` on the app's own log handler. The one exception is the server's own
  configured listening addresses, in gunicorn's messages about its sockets ("Listening
  at: ...", "Connection in use: ('127.0.0.1', 5000)"): an operator needs to know which
  address is taken, and they are not a client's.
- gunicorn answers malformed requests itself (400, 414, 431, ...) with an HTML page
  and none of the app's security headers. `use_json_error_pages()` makes those answers
  the app's JSON error body with the app's headers.
- Values no engine or parser holds (kind 2): a JSON body nested deeper than
  MAX_JSON_DEPTH is a 400 before any parser recurses into it (5,000 levels made
  Python's parser raise RecursionError: a 500 on every JSON endpoint); an <int:...> in a
  URL is at most what PostgreSQL's integer holds (a larger one was a 500).
- An over-size body (kind 6): the app answers 413 before reading the body, and the
  server then closed the connection while the client was still sending, so the client
  never read the 413 (a broken pipe, which a phone treats as "offline" and retries).
  `init_app` reads and discards a declared over-size body (up to DRAIN_MAX_BYTES,
  within DRAIN_SECONDS) before answering 413, so the client gets to read it.
"""
import ipaddress
import json
import logging
import re
import time

from flask import abort, current_app, request
from flask_smorest import abort as smorest_abort
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.routing import IntegerConverter

from . import errors
from .extensions import api
from .security import API_HEADERS

ADDRESS_REMOVED = "[address]"
# Candidates only: each is checked with ipaddress before it is removed, so times
# ("12:30:45") and version numbers stay.
_CANDIDATE = re.compile(
    r"(?<![\w.:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?)"
    r"(?:%[\w.]+)?(?![\w.:])"                                        # IPv6
    r"|(?<![\w.])((?:\d{1,3}\.){3}\d{1,3})(?![\w.])")                   # IPv4


def _is_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def scrub(text, keep=()):
    """`text` with every IP address (v4, v6, v4-mapped) replaced by "[address]", except
    inside the exact strings of `keep`."""
    if not text:
        return text
    if keep:
        # Split on the kept strings (a capturing group: they come back at odd indices).
        kept = re.compile("(" + "|".join(re.escape(k) for k in sorted(keep, key=len, reverse=True))
                          + r")(?![\w.:])")
        pieces = kept.split(text)
        return "".join(piece if index % 2 else scrub(piece) for index, piece in enumerate(pieces))
    return _CANDIDATE.sub(
        lambda m: ADDRESS_REMOVED if _is_address(m.group(1) or m.group(2)) else m.group(0), text)


# gunicorn's messages about its own listening sockets (gunicorn/sock.py, arbiter.py), by
# their templates, before any argument is put in, so no client's text can make one; the
# "connection to ... failed" line comes formatted, with the address as sock.py writes it
# (a (host, port) tuple, or a unix socket's path).
SOCKET_TEMPLATES = frozenset({"Listening at: %s (%s)", "Listening at: %s", "Connection in use: %s",
                              "Invalid address: %s", "Can't connect to %s"})
FAILED_BIND = re.compile(r"connection to (\([^()]*\)|/\S*) failed: ")
SERVER_LOGGER = "gunicorn.error"


def own_addresses(binds):
    """The strings in which gunicorn's socket messages name the listening addresses
    `binds` (gunicorn's `cfg.address`: (host, port) tuples, unix paths, fds): the tuple
    as sock.py writes it, "('127.0.0.1', 5000)", and the listener as arbiter.py does,
    "http://127.0.0.1:5000" or "http://[::1]:5000". A host name counts with the
    addresses it resolves to (what the socket is bound to)."""
    import socket
    forms = set()
    for bind in binds:
        if not isinstance(bind, tuple):
            continue  # a unix socket's path or an fd names no IP address
        host, port = bind[:2]
        forms.add(str(bind))
        hosts = {host}
        try:
            hosts |= {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
        except (OSError, UnicodeError):
            pass
        for name in hosts:
            forms.add(str((name, port)))
            shown = f"[{name}]" if ":" in name else name
            forms |= {f"http://{shown}:{port}", f"https://{shown}:{port}"}
    return frozenset(forms)


class NoAddresses(logging.Filter):
    """Removes IP addresses from a record's message and traceback. Install it on
    handlers (it then sees records propagated from every logger).

    `own`: the server's own listening addresses (own_addresses(); GunicornLogger passes
    gunicorn's bind setting). They are the server's, not a client's, and an operator
    needs them ("Connection in use: ('127.0.0.1', 5000)" says which address is taken):
    they stay in gunicorn's messages about its listening sockets, and only there. The
    same text in any other record (a request's, the access log's) is removed like any
    address, and so is any other address in a socket message."""

    def __init__(self, own=()):
        super().__init__()
        self.own = frozenset(own)

    def _keeps(self, record):
        if not self.own or record.name != SERVER_LOGGER or not isinstance(record.msg, str):
            return False
        if record.args:
            return record.msg in SOCKET_TEMPLATES
        return FAILED_BIND.match(record.msg) is not None

    def filter(self, record):
        keep = self.own if self._keeps(record) else ()
        message = record.getMessage()
        record.msg, record.args = scrub(message, keep), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _install_filter(logger, own=()):
    for handler in logger.handlers:
        if not any(isinstance(f, NoAddresses) for f in handler.filters):
            handler.addFilter(NoAddresses(own))


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is not needed to import the app (tests, CLI)
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with NoAddresses on every handler of its error and access logs
    (set as `logger_class` in gunicorn.conf.py); the error log keeps the configured
    listening addresses in gunicorn's messages about its sockets."""

    def setup(self, cfg):
        super().setup(cfg)
        _install_filter(self.error_log, own_addresses(cfg.address))
        _install_filter(self.access_log)


# --- gunicorn's own error answers ------------------------------------------------------

MESSAGES = {
    400: "The request could not be read.",
    403: "Forbidden.",
    413: "The request is too large.",
    414: "The request line is too long.",
    417: "Expectation failed.",
    431: "The request headers are too large.",
    500: "Something went wrong. Nothing was lost; please try again.",
    501: "Not implemented.",
}


def error_response_bytes(status_int, reason):
    """The bytes of a complete HTTP/1.1 error answer: the app's JSON error body (never
    the request's content echoed back) with the security headers of the app's JSON
    answers (server/security.py API_HEADERS)."""
    body = json.dumps(errors.body(status_int, errors.BY_STATUS.get(status_int, "bad_request"),
                                  MESSAGES.get(status_int, reason), reason=reason)).encode()
    headers = [f"HTTP/1.1 {status_int} {reason}", "Connection: close",
               "Content-Type: application/json", f"Content-Length: {len(body)}",
               "Cache-Control: no-store"]
    headers += [f"{name}: {value}" for name, value in API_HEADERS.items()]
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body


def _write_error(sock, status_int, reason, mesg):
    from gunicorn import util
    util.write_nonblock(sock, error_response_bytes(status_int, reason))


def use_json_error_pages():
    """Make gunicorn's own error answers JSON with the security headers. gunicorn has no
    setting for its error page: every worker class calls gunicorn.util.write_error, so
    that one function is replaced (in the master, before workers fork)."""
    from gunicorn import util
    util.write_error = _write_error


# --- Over-size bodies ------------------------------------------------------------------

DRAIN_MAX_BYTES = 32 * 1024 * 1024
DRAIN_SECONDS = 15
DRAIN_CHUNK = 64 * 1024


def _refuse_oversize():
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if not limit or length is None or length <= limit:
        return None
    # Read what the client is sending so it reaches the point of reading our answer;
    # past DRAIN_MAX_BYTES or DRAIN_SECONDS it is abuse and the connection just closes.
    stream = request.environ.get("wsgi.input")
    remaining = min(length, DRAIN_MAX_BYTES)
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while stream is not None and remaining > 0 and time.monotonic() < deadline:
            chunk = stream.read(min(DRAIN_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:
        pass  # the client went away: nothing left to answer
    abort(413)


# --- Values no engine or parser holds ----------------------------------------------------

MAX_JSON_DEPTH = 32       # the deepest real payload (a sync of reports) is 5 levels
MAX_URL_INTEGER = 2**31 - 1


def deeper_than(value, levels):
    """Whether a parsed JSON value nests arrays and objects more than `levels` deep (a
    scalar is 0 deep, [] or {} 1). Recurses at most `levels` calls and stops at the first
    proof, so a sync body of 100 reports is checked in about 0.1 ms."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return False
    if levels <= 0:
        return True
    for child in (value.values() if type(value) is dict else value):
        kind = type(child)
        if (kind is dict or kind is list) and deeper_than(child, levels - 1):
            return True
    return False


# Blueprints whose bodies are not JSON: the SMS gateway's callbacks (server/sms/gateway.py).
NOT_JSON_BLUEPRINTS = frozenset({"sms_gateway"})


def _refuse_bodies_not_json():
    # Every API body is JSON. One sent as something else (a client that left out
    # Content-Type) would be read as no body at all, and answered with a 422 naming every
    # required field as missing, which hides the cause.
    if (request.method not in ("POST", "PUT", "PATCH") or not request.content_length
            or request.is_json or not request.path.startswith("/api/")
            or request.blueprint in NOT_JSON_BLUEPRINTS):
        return None
    smorest_abort(415, message="Send the body as JSON, with Content-Type: application/json.")


def _refuse_deep_json():
    # Parsed once here (about 2 ms for a full 256 KB sync); every parser after this one
    # (webargs, get_json) meets a body already known to be shallow.
    if not request.is_json or not request.content_length:
        return None
    try:
        too_deep = deeper_than(json.loads(request.get_data(cache=True)), MAX_JSON_DEPTH)
    except RecursionError:
        too_deep = True
    except ValueError:
        return None  # not JSON at all: the parsers answer that with their own 400
    if too_deep:
        smorest_abort(400, message=f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return None


class BoundedIntegerConverter(IntegerConverter):
    """<int:...> as werkzeug reads it, but never above PostgreSQL's integer (a larger id
    cannot exist: 404, not a database error)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_URL_INTEGER, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# The OpenAPI document states the bound (registered once: `api` lives as long as the process).
api.register_converter(BoundedIntegerConverter, integerconverter2paramschema)


def init_app(app):
    """Before any blueprint is registered: the URL converters are looked up then."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(_refuse_oversize)
    app.before_request(_refuse_bodies_not_json)
    app.before_request(_refuse_deep_json)
    from flask.logging import default_handler
    if not any(isinstance(f, NoAddresses) for f in default_handler.filters):
        default_handler.addFilter(NoAddresses())
