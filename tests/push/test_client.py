"""The sender's HTTP client (aiohttp) against small local servers: the answers push
services give (with a length, chunked, to the end of the connection), TLS, connection
reuse, a kept-alive connection the server has closed, timeouts, garbage, and names
resolved through the resolver given."""
import asyncio
import datetime
import ipaddress
import re
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.push.client import ProtocolError, PushClient
from server.push.client import origin as client_origin
from server.push.endpoints import EndpointRefused, GuardedResolver


async def serve(answer, ssl_context=None):
    """A server that reads each request and writes `answer(request_number)`; if the
    answer is a (bytes, close) pair, it closes the connection after writing."""
    state = {"connections": 0, "requests": []}

    async def handle(reader, writer):
        state["connections"] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                state["requests"].append((head, await reader.readexactly(length)))
                reply = answer(len(state["requests"]))
                close = False
                if isinstance(reply, tuple):
                    reply, close = reply
                if reply is None:
                    await asyncio.sleep(3600)
                writer.write(reply)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    return server, port, state


def post(answer, path="/push/1", body=b"x" * 100, count=1, client_kwargs=None,
         ssl_context=None, scheme="http", host="127.0.0.1"):
    async def run():
        server, port, state = await serve(answer, ssl_context)
        client = PushClient(**(client_kwargs or {}))
        try:
            results = [await client.post(f"{scheme}://{host}:{port}{path}",
                                         {"TTL": "60", "Urgency": "high"}, body)
                       for _ in range(count)]
        finally:
            await client.close()
            server.close()
        return results, state
    return asyncio.run(run())


CREATED = b"HTTP/1.1 201 Created\r\nLocation: /m/1\r\nContent-Length: 0\r\n\r\n"


def test_request_and_keep_alive_reuse():
    results, state = post(lambda n: CREATED, count=5)
    assert [r[0] for r in results] == [201] * 5
    assert results[0][1]["location"] == "/m/1"
    assert state["connections"] == 1  # one connection, reused
    head, body = state["requests"][0]
    assert head.startswith(b"POST /push/1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nContent-Length: 100\r\n" in head and b"\r\nTTL: 60\r\n" in head
    assert body == b"x" * 100


@pytest.mark.parametrize("reply,status,body", [
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad payload", 400, b"bad payload"),
    (b"HTTP/1.1 410 Gone\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"4\r\nunsu\r\n8;x=1\r\nbscribed\r\n0\r\nX-Trailer: 1\r\n\r\n", 410, b"unsubscribed"),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, b""),
])
def test_response_bodies(reply, status, body):
    results, state = post(lambda n: reply, count=2)
    assert [(r[0], r[2]) for r in results] == [(status, body)] * 2
    assert state["connections"] == 1


def test_body_to_the_end_of_the_connection():
    reply = (b"HTTP/1.0 500 Oops\r\n\r\ntry later", True)
    results, state = post(lambda n: reply, count=2)
    assert [(r[0], r[2]) for r in results] == [(500, b"try later")] * 2
    assert state["connections"] == 2  # not reused: it ended the body


def test_a_kept_alive_connection_the_server_closed_is_replaced():
    # The server closes after each answer without saying so (its idle timeout).
    results, state = post(lambda n: (CREATED, True), count=3)
    assert [r[0] for r in results] == [201] * 3
    assert len(state["requests"]) == 3 and state["connections"] == 3


def test_timeout():
    with pytest.raises(TimeoutError):
        post(lambda n: None, client_kwargs={"timeout": 0.3})


def test_garbage_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        post(lambda n: (b"SSH-2.0-OpenSSH\r\n\r\n", True))


def test_refused():
    async def run():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        await PushClient().post(f"http://127.0.0.1:{port}/x", {}, b"")
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(run())


def test_no_spaces_or_control_characters_in_the_request_line():
    with pytest.raises(ValueError):
        asyncio.run(PushClient().post("http://127.0.0.1:1/a b\r\nX: y", {}, b""))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A certificate authority of our own and a certificate for localhost from it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test push CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return server, client


def test_tls_checks_the_certificate(certificates):
    server_context, client_context = certificates
    results, _ = post(lambda n: CREATED, count=2, scheme="https", host="localhost",
                      ssl_context=server_context, client_kwargs={"ssl_context": client_context})
    assert [r[0] for r in results] == [201, 201]
    # With only the system's authorities, our test CA is not trusted.
    with pytest.raises(ssl.SSLCertVerificationError):
        post(lambda n: CREATED, scheme="https", host="localhost", ssl_context=server_context)


@pytest.mark.parametrize("url,origin", [
    ("https://fcm.googleapis.com/fcm/send/a:b?x=1", "https://fcm.googleapis.com"),
    ("https://h?x=1", "https://h"),
    ("HTTPS://[2001:db8::1]:8443/p#f", "https://[2001:db8::1]:8443"),
    ("http://127.0.0.1:8080/push/1", "http://127.0.0.1:8080"),
])
def test_origin_is_where_the_client_connects(url, origin):
    # The VAPID audience comes from the same parse as the connection.
    assert client_origin(url) == origin


@pytest.mark.parametrize("path,line", [
    ("/fcm/send/a:b?x=1", "POST /fcm/send/a:b?x=1 HTTP/1.1"),
    ("?x=1", "POST /?x=1 HTTP/1.1"),
    ("/p#f", "POST /p HTTP/1.1"),
])
def test_request_line_and_host(path, line):
    _, state = post(lambda n: CREATED, path=path)
    head = state["requests"][0][0].decode()
    assert head.split("\r\n")[0] == line
    assert re.search(r"\r\nHost: 127\.0\.0\.1:\d+\r\n", head)


@pytest.mark.parametrize("url", ["ftp://h/x", "https://user:pw@h/x", "https:///x", "/relative"])
def test_only_plain_http_urls(url):
    with pytest.raises(ValueError):
        asyncio.run(PushClient().post(url, {}, b""))


def test_names_resolve_through_the_resolver_given():
    # The sender passes endpoints.GuardedResolver: the addresses it checks are the ones
    # aiohttp connects to.
    with pytest.raises(EndpointRefused) as refused:
        post(lambda n: CREATED, host="localhost",
             client_kwargs={"resolver": GuardedResolver(allow_local=False)})
    assert refused.value.code == "endpoint_loopback"
    results, state = post(lambda n: CREATED, count=2, host="localhost",
                          client_kwargs={"resolver": GuardedResolver(allow_local=True)})
    assert [r[0] for r in results] == [201, 201]
