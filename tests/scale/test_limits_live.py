"""Every documented rate limit, measured over real sockets against real gunicorn hosts:

- `embedded`: `make run`'s setup — SQLite, gunicorn.conf.py with its own worker count
  (one process with threads: the counters are in its memory), no Redis;
- `two-hosts`: two gunicorn hosts of two workers each on one PostgreSQL database, the
  counters in the local Redis (a key prefix of this run's own); requests alternate hosts.

Each limit is hit from a loopback address of its own (the client socket is bound to
127.0.x.y; TRUST_PROXY is off, so that is the address the server sees). The hourly parts sit
behind per-minute parts, so they are measured on a second deployment where only the
shorter windows are lifted.
"""
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.demo import DEMO_INVITE, DEMO_MODERATOR, DEMO_PASSWORD

from .cluster import Deployment, call

pytestmark = pytest.mark.scale

LOGIN = "/api/v1/staff/login"
REDEEM = "/api/v1/members/redeem"
CHECK = "/api/v1/checks"
# Lift the shorter windows so the hourly part of each limit is the one reached.
HOURLY_ONLY = {
    "LOGIN_RATE_LIMIT": "1000 per minute;50 per hour",
    "LOGIN_ACCOUNT_ADDRESS_LIMIT": "1000 per minute;1000 per 10 minutes;20 per hour",
    "REDEEM_RATE_LIMIT": "1000 per minute;60 per hour",
}
TEN_MINUTES_ONLY = {"LOGIN_ACCOUNT_ADDRESS_LIMIT": "1000 per minute;10 per 10 minutes"}


class Hosts:
    """Round-robin over a deployment's hosts."""

    def __init__(self, deployment, urls):
        self.deployment = deployment
        self.urls = urls
        self._next = itertools.cycle(urls)

    def call(self, method, path, body=None, source="127.0.0.1", **kw):
        return call(next(self._next), method, path, body, source=source, **kw)

    def statuses(self, n, method, path, body, source, **kw):
        return [self.call(method, path, body() if callable(body) else body, source, **kw)[0]
                for _ in range(n)]


def _deploy(tmp_path, kind, env=None):
    if kind == "embedded":
        deployment = Deployment(tmp_path, "sqlite", env=env)
        deployment.setup()
        return Hosts(deployment, [deployment.start_host("host")])
    deployment = Deployment(tmp_path, "postgresql", redis=True, env=env)
    deployment.setup()
    urls = [deployment.start_host(f"host{n}", env={"WEB_CONCURRENCY": "2"}) for n in (1, 2)]
    return Hosts(deployment, urls)


@pytest.fixture(params=["embedded", "two-hosts"])
def kind(request):
    return request.param


@pytest.fixture
def hosts(tmp_path, kind):
    hosts = _deploy(tmp_path / "defaults", kind)
    with hosts.deployment:
        yield hosts


@pytest.fixture
def hourly(tmp_path, kind):
    hosts = _deploy(tmp_path / "hourly", kind, env=HOURLY_ONLY)
    with hosts.deployment:
        yield hosts


def wrong_login(name=DEMO_MODERATOR):
    return {"username": name, "password": "not the password at all"}


def test_each_documented_limit_holds_exactly(hosts, kind):
    measured = {}
    # CHECK_RATE_LIMIT: 30 checks per hour per member, the 31st refused.
    status, body, _ = hosts.call("POST", REDEEM, {"code": DEMO_INVITE}, source="127.0.9.1")
    assert status == 201, body
    member = {"Authorization": f"Bearer {body['token']}"}
    check = {"kind": "phone", "value": "07700 900123"}
    # From many addresses: the limit is the member's, not an address's.
    statuses = [hosts.call("POST", CHECK, check, source=f"127.0.9.{10 + n % 7}", headers=member)[0]
                for n in range(31)]
    assert statuses == [200] * 30 + [429], statuses
    measured["checks per member per hour"] = statuses.count(200)

    # REDEEM_RATE_LIMIT: 10 per minute per address. TRUST_PROXY is 0 (no proxy in front), so
    # a forged X-Forwarded-For changes nothing.
    statuses = [hosts.call("POST", REDEEM, {"code": "ZZZZ-ZZZZ"}, source="127.0.1.1",
                           headers={"X-Forwarded-For": f"203.0.113.{n}"})[0] for n in range(11)]
    assert statuses == [404] * 10 + [429], statuses
    assert hosts.call("POST", REDEEM, {"code": "ZZZZ-ZZZZ"}, source="127.0.1.2")[0] == 404
    measured["redeems per address per minute"] = statuses.count(404)

    # LOGIN_RATE_LIMIT: 10 per minute per address, whatever the account.
    statuses = [hosts.call("POST", LOGIN, wrong_login(f"someone-{n}"), source="127.0.2.1")[0]
                for n in range(11)]
    assert statuses == [401] * 10 + [429], statuses
    measured["logins per address per minute"] = statuses.count(401)

    # LOGIN_ACCOUNT_ADDRESS_LIMIT: 5 a minute at one account from one address.
    statuses = hosts.statuses(6, "POST", LOGIN, wrong_login(), "127.0.2.2")
    assert statuses == [401] * 5 + [429], statuses
    measured["logins per account and address per minute"] = statuses.count(401)

    # ANON_REPORT_RATE_LIMIT: 120 requests to /reports and /sync a minute per address.
    statuses = hosts.statuses(121, "POST", "/api/v1/reports", {}, "127.0.3.1")
    assert statuses == [422] * 120 + [429], statuses[-3:]
    measured["anonymous report requests per address per minute"] = statuses.count(422)

    # ANON_REPORT_COUNT_LIMIT: 600 reports an hour per address, a sync of 100 counting 100.
    batch = {"reports": [{} for _ in range(100)]}
    statuses = hosts.statuses(6, "POST", "/api/v1/sync", batch, "127.0.4.1")
    assert statuses == [200] * 6, statuses
    assert hosts.call("POST", "/api/v1/sync", {"reports": [{}]}, source="127.0.4.1")[0] == 429
    assert hosts.call("POST", "/api/v1/sync", {"reports": [{}]}, source="127.0.4.2")[0] == 200
    measured["anonymous reports per address per hour"] = 600
    print(f"\n{kind}: {measured}")

    used = ["127.0.9.1", "127.0.1.1", "127.0.2.1", "127.0.2.2", "127.0.3.1", "127.0.4.1"]
    _no_client_address_anywhere(hosts.deployment, used)
    if kind == "two-hosts":
        import redis

        from .cluster import REDIS_URL
        client = redis.Redis.from_url(REDIS_URL)
        keys = [k.decode() for k in client.scan_iter(match=f"*{hosts.deployment.redis_prefix}*")]
        client.close()
        assert len(keys) >= 6
        assert not [k for k in keys if "127.0." in k], "a raw address in a Redis key"


def _no_client_address_anywhere(deployment, addresses):
    """No address the clients used is in any file the deployment wrote: database, WAL,
    instance folder, server log."""
    for path in deployment.base.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for address in addresses:
                assert address.encode() not in data, f"{address} written to {path}"


def test_hourly_parts_hold_exactly(hourly, kind):
    measured = {}
    statuses = hourly.statuses(61, "POST", REDEEM, {"code": "ZZZZ-ZZZZ"}, "127.0.5.1")
    assert statuses == [404] * 60 + [429], statuses[-3:]
    measured["redeems per address per hour"] = statuses.count(404)

    statuses = [hourly.call("POST", LOGIN, wrong_login(f"name-{n}"), source="127.0.6.1")[0]
                for n in range(51)]
    assert statuses == [401] * 50 + [429], statuses[-3:]
    measured["logins per address per hour"] = statuses.count(401)

    statuses = hourly.statuses(21, "POST", LOGIN, wrong_login(), "127.0.6.2")
    assert statuses == [401] * 20 + [429], statuses[-3:]
    measured["logins per account and address per hour"] = statuses.count(401)
    print(f"\n{kind}: {measured}")


def test_ten_minute_rung_holds_exactly(tmp_path):
    hosts = _deploy(tmp_path, "embedded", env=TEN_MINUTES_ONLY)
    with hosts.deployment:
        statuses = hosts.statuses(11, "POST", LOGIN, wrong_login(), "127.0.6.3")
        assert statuses == [401] * 10 + [429], statuses


def test_strangers_cannot_lock_out_the_moderator(hosts, kind):
    """200 wrong passwords for demo-moderator from 50 loopback addresses at once, then the
    real password from a new address logs in; a guessing run from one address is slowed to
    the documented 5 a minute; the account is flagged once in the audit log."""
    sources = [f"127.0.7.{n}" for n in range(1, 51)]

    def guess(n):
        return hosts.call("POST", LOGIN, wrong_login(), source=sources[n % 50])[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(guess, range(200)))
    assert statuses == [401] * 200
    status, body, _ = hosts.call("POST", LOGIN, {"username": DEMO_MODERATOR,
                                                 "password": DEMO_PASSWORD}, source="127.0.8.1")
    assert status == 200, body

    # One address guessing as fast as it can, 16 at once: exactly 5 guesses are checked.
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: hosts.call("POST", LOGIN, wrong_login(),
                                                      source="127.0.8.2")[0], range(40)))
    assert sorted(statuses) == [401] * 5 + [429] * 35, statuses
    flagged = hosts.deployment.query(
        "SELECT count(*) FROM audit_event WHERE action = 'login_under_attack'")[0][0]
    assert flagged == 1
    print(f"\n{kind}: 200 guesses from 50 addresses all 401, real password 200; "
          f"40 concurrent guesses from one address: {statuses.count(401)} checked, "
          f"{statuses.count(429)} refused; login_under_attack events: {flagged}")


def test_gunicorn_refuses_several_workers_with_counters_in_memory(tmp_path):
    """In-memory counters are per process: several workers would multiply every limit."""
    import os
    import subprocess

    from .cluster import BIN, ROOT
    env = dict(os.environ, WEB_CONCURRENCY="2", REDFLAG_INSTANCE=str(tmp_path))
    env.pop("RATELIMIT_STORAGE_URI", None)
    result = subprocess.run([BIN / "gunicorn", "-c", "gunicorn.conf.py", "--check-config",
                             "server:create_app()"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "RATELIMIT_STORAGE_URI" in result.stdout + result.stderr
    env["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:6379/0"
    ok = subprocess.run([BIN / "gunicorn", "-c", "gunicorn.conf.py", "--check-config",
                         "server:create_app()"], env=env, cwd=ROOT, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
