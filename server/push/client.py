"""POST to push services with aiohttp: kept-alive connections, TLS, a timeout, a cap.

    client = PushClient(limit=32, timeout=10.0)
    status, headers, body = await client.post(url, headers, body)
    await client.close()

The endpoint URL is parsed by yarl, the parser aiohttp connects with: `origin()` (the
VAPID audience) and push/endpoints.py use the same parser, so what we check and sign
for is where we connect. Names are resolved by the `resolver` given (the sender passes
endpoints.GuardedResolver, which drops inside addresses).
"""
import asyncio

import aiohttp
from yarl import URL

MAX_BODY = 64 * 1024     # push services answer with a few hundred bytes at most


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.x we can read."""


class _Stale(Exception):
    """The connection failed before an answer came: worth one more try."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause


def endpoint_url(url):
    """The yarl URL of an endpoint. Raises ValueError unless it is a plain http(s) URL
    (a host, no user or password, no spaces or control characters)."""
    if any(c <= " " or c == "\x7f" for c in url):
        raise ValueError("spaces or control characters in the URL")
    parsed = URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host or parsed.user is not None \
            or parsed.password is not None:
        raise ValueError("not a plain http(s) URL")
    return parsed.with_fragment(None)


def origin(url):
    """"scheme://host[:port]" of an endpoint: the VAPID audience (RFC 8292)."""
    return str(endpoint_url(url).origin())


class PushClient:
    def __init__(self, limit=32, timeout=10.0, ssl_context=None, resolver=None):
        """limit: requests in flight at most; timeout: seconds for one post(), connect
        to last byte; ssl_context: the authorities to trust (default: the system's, with
        hostname checks); resolver: an aiohttp AbstractResolver (default: aiohttp's)."""
        self.timeout = timeout
        self.limit = limit
        self.ssl_context = ssl_context
        self.resolver = resolver
        self._slots = asyncio.Semaphore(limit)
        self._session = None

    async def post(self, url, headers, body):
        """POST body to url. Returns (status, {lower-case header: value}, body bytes, at
        most MAX_BODY). Raises ValueError (not a plain http(s) URL), TimeoutError, OSError
        (connection failures, TLS errors, EndpointRefused) or ProtocolError."""
        target = endpoint_url(url)
        async with self._slots:
            async with asyncio.timeout(self.timeout):
                for attempt in range(2):
                    try:
                        return await self._post(target, headers, body)
                    except _Stale as error:
                        # Closed before answering: most likely a kept-alive connection
                        # the server closed as we picked it. Once more, on a new one. (If
                        # it had taken the message, the device gets it twice; the
                        # notification's tag makes that one notification.)
                        if attempt:
                            raise error.cause from None

    async def close(self):
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.resolver is not None:
            await self.resolver.close()

    # ----------------------------------------------------------------------------------

    def _open(self):
        connector = aiohttp.TCPConnector(
            limit=self.limit, ssl=self.ssl_context or True, resolver=self.resolver)
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            # No timeout of aiohttp's own: post() times the whole exchange, retry included.
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"))

    async def _post(self, target, headers, body):
        if self._session is None:
            self._session = self._open()
        try:
            async with self._session.post(target, data=body, headers=headers,
                                          allow_redirects=False) as response:
                answer = b""
                while len(answer) < MAX_BODY:
                    chunk = await response.content.read(MAX_BODY - len(answer))
                    if not chunk:
                        break
                    answer += chunk
                return (response.status,
                        {name.lower(): value for name, value in response.headers.items()},
                        answer)
        # The sender records the cause by its type: the underlying one, not aiohttp's wrapper.
        except aiohttp.ClientConnectorCertificateError as error:
            raise error.certificate_error from None
        except aiohttp.ClientConnectorError as error:
            raise error.os_error from None  # refused, unreachable, EndpointRefused
        except aiohttp.ServerDisconnectedError:
            raise _Stale(ConnectionResetError("closed before answering")) from None
        except aiohttp.ClientOSError as error:
            raise _Stale(error) from None
        except aiohttp.ClientPayloadError:
            raise ConnectionResetError("connection closed mid-response") from None
        except aiohttp.ClientResponseError as error:
            raise ProtocolError(error.message) from None
        except aiohttp.ClientConnectionError as error:
            raise ConnectionResetError(str(error) or type(error).__name__) from None
        except aiohttp.ClientError as error:
            raise ProtocolError(str(error) or type(error).__name__) from None
