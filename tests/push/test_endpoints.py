"""Push endpoints never lead inside: refused when a member subscribes, and again when
the sender connects (issue 9, kind 4)."""
import asyncio
import socket

import aiohttp
import pytest

from server.extensions import db
from server.push import endpoints
from server.push.models import Delivery, Subscription

from .conftest import Device, publish_alert, run_sender, subscribe

SUBS = "/api/v1/push/subscriptions"

# Every form these machines read as an address inside (loopback, private, link-local,
# reserved, multicast), as a member could send it.
INSIDE = [
    "https://2130706433:9443/", "https://127.1:9443/", "https://0x7f000001/",
    "https://0177.0.0.1/", "https://localhost.:9443/", "https://localhost/x",
    "https://push.localhost/x", "https://LOCALHOST/x", "https://127.0.0.1/x",
    "https://[::1]:9443/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
    "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/",
    "https://\u2460\u2461\u2466.0.0.1/",  # circled digits: IDNA reads them as 127.0.0.1
    "https://10.0.0.5/x", "https://172.16.0.1/x", "https://192.168.1.1/x",
    "https://100.64.0.1/x", "https://[fd00::1]/x", "https://169.254.169.254/latest",
    "https://[fe80::1]/x", "https://0.0.0.0/x", "https://[::]/x", "https://240.0.0.1/x",
    "https://224.0.0.1/x", "https://[ff02::1]/x",
]


@pytest.fixture
def app_config(database_url, tmp_path):
    # Production rules: loopback endpoints refused (tests otherwise allow them).
    return {"VAPID_PRIVATE_KEY_FILE": str(tmp_path / "vapid_private.pem"),
            "PUSH_MAX_SUBSCRIPTIONS_PER_MEMBER": 1000, "PUSH_ALLOW_LOCAL_ENDPOINTS": False}


@pytest.mark.parametrize("url", INSIDE)
def test_each_form_of_an_inside_address_is_refused_at_subscribe(client, areas, member, auth, url):
    reply = client.post(SUBS, json={"subscription": Device(url).subscription, "areas": ["hackney"]},
                        headers=auth)
    assert reply.status_code == 422, reply.get_json()
    assert "public push service" in reply.get_json()["errors"]["json"]["subscription"]["endpoint"][0]
    assert db.session.query(Subscription).count() == 0


def test_a_public_push_service_is_accepted(client, areas, member, auth):
    for url in ("https://fcm.googleapis.com/fcm/send/abc:def", "https://8.8.8.8/x",
                "https://[2001:4860:4860::8888]/x"):
        reply = client.post(SUBS, json={"subscription": Device(url).subscription,
                                        "areas": ["hackney"]}, headers=auth)
        assert reply.status_code == 201, (url, reply.get_json())


def test_the_allow_list_keeps_to_the_browsers_push_services(client, app, areas, member, auth):
    app.config["PUSH_SERVICE_HOSTS"] = "browsers"
    def post(url):
        return client.post(SUBS, json={"subscription": Device(url).subscription,
                                       "areas": ["hackney"]}, headers=auth)
    assert post("https://fcm.googleapis.com/fcm/send/x").status_code == 201
    assert post("https://web.push.apple.com/QGuQ").status_code == 201
    assert post("https://wns2-by3p.notify.windows.com/w/?token=x").status_code == 201
    refused = post("https://push.example.net/x")
    assert refused.status_code == 422
    assert "known push services" in refused.get_json()["errors"]["json"]["subscription"]["endpoint"][0]
    # A look-alike suffix is not a subdomain.
    assert post("https://evilpush.apple.com.example.net/x").status_code == 422
    assert post("https://notpush.apple.com/x").status_code == 422


def test_allow_list_setting_reads_names_and_the_browsers_shortcut():
    assert endpoints.allowed_hosts_setting("") == ()
    hosts = endpoints.allowed_hosts_setting(" Push.Example.NET. , browsers")
    assert hosts[0] == "push.example.net" and "fcm.googleapis.com" in hosts
    assert endpoints.host_allowed("a.notify.windows.com", hosts)
    assert not endpoints.host_allowed("notify.windows.com.evil.net", hosts)


def test_the_sender_refuses_an_inside_endpoint_stored_earlier(app, areas, member, vapid_key,
                                                              endpoint):
    # A row that got in before the rules (or with other settings): the sender checks
    # again just before sending, and the local endpoint never hears of it.
    sub = subscribe(member, Device(endpoint.url("/inside")), ["hackney"])
    publish_alert(["hackney"])
    totals = run_sender(app)
    assert endpoint.requests == []
    delivery = db.session.query(Delivery).one()
    # http:// and 127.0.0.1: refused for either (the first rule broken is recorded).
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.last_error in ("endpoint_not_https", "endpoint_loopback")
    assert totals["failed"] == 1 and db.session.get(Subscription, sub.id) is not None


def test_allowed_local_endpoints_still_get_their_push(app, areas, member, vapid_key, endpoint):
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = True
    subscribe(member, Device(endpoint.url("/ok")), ["hackney"])
    publish_alert(["hackney"])
    assert run_sender(app)["sent"] == 1 and len(endpoint.requests) == 1


class _Answers:
    """A name server's answers, changed by the test (DNS rebinding)."""

    def __init__(self, address):
        self.address = address

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass


def test_a_name_that_turns_inside_after_the_check_is_refused_as_it_connects(endpoint):
    # The name passed its subscribe-time check with a public address; by send time it
    # answers 127.0.0.1. The connector's resolver sees the new answer and refuses it.
    port = int(endpoint.base.rsplit(":", 1)[1])
    answers = _Answers("8.8.8.8")
    assert endpoints.check("https://push.example.net/x") is not None
    answers.address = "127.0.0.1"

    async def post():
        connector = aiohttp.TCPConnector(resolver=endpoints.GuardedResolver(resolver=answers),
                                         use_dns_cache=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.post(f"http://push.example.net:{port}/x", data=b"x",
                                    allow_redirects=False) as response:
                return response.status

    with pytest.raises(aiohttp.ClientConnectorError) as raised:
        asyncio.run(post())
    assert isinstance(raised.value.os_error, endpoints.EndpointRefused)
    assert raised.value.os_error.code == "endpoint_loopback"
    assert endpoint.requests == []
    # The same name, allowed to be local (a test push service), connects.
    async def allowed():
        connector = aiohttp.TCPConnector(
            resolver=endpoints.GuardedResolver(allow_local=True, resolver=answers))
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.post(f"http://push.example.net:{port}/x", data=b"x") as response:
                return response.status
    assert asyncio.run(allowed()) == 201
