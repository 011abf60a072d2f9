"""The real local push service (npm web-push-testing), shared by the push tests and the
browser tests: it subscribes like a browser's push service, checks VAPID, decrypts what
it receives and hands the messages back."""
import json
import os
import random
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
WEB_PUSH_TESTING = ROOT / "node_modules" / ".bin" / "web-push-testing"


def free_port():
    """A free TCP port on 127.0.0.1 below the kernel's ephemeral range
    (/proc/sys/net/ipv4/ip_local_port_range). Tests stop servers and start them again on
    the same port (Kannel, the engines' server); with several pytest workers, a port the
    kernel hands out could be taken by another process's outgoing connection meanwhile.
    No automatically assigned port is ever below the range."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except OSError:
        low = 32768
    for _ in range(200):
        port = random.randrange(10000, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


@contextmanager
def refusing_port():
    """A port on 127.0.0.1 that refuses every connection while the block runs: bound and
    never listening. A port free_port() found free could be taken meanwhile by another
    pytest worker's server, which would accept the connection (and answer, or not)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


class WebPushTesting:
    def __init__(self, base):
        self.base = base

    def subscribe(self, public_key):
        """A browser-like subscription for our applicationServerKey: the PushSubscription
        JSON (endpoint, keys) plus the service's clientHash for reading messages."""
        reply = requests.post(f"{self.base}/subscribe", timeout=10, json={
            "userVisibleOnly": "true", "applicationServerKey": public_key})
        reply.raise_for_status()
        return reply.json()["data"]

    @staticmethod
    def _hash(subscription):
        return subscription if isinstance(subscription, str) else subscription["clientHash"]

    def messages(self, subscription):
        """The decrypted messages this subscription has received."""
        reply = requests.post(f"{self.base}/get-notifications", timeout=10,
                              json={"clientHash": self._hash(subscription)})
        reply.raise_for_status()
        return reply.json()["data"]["messages"]

    def expire(self, subscription):
        """From now on the service answers 410 Gone for this subscription."""
        requests.post(f"{self.base}/expire-subscription/{self._hash(subscription)}",
                      timeout=10).raise_for_status()


@contextmanager
def running_push_service(workdir):
    """Start web-push-testing on a free port (its CLI keeps the server's pid in
    `workdir`/.node-persist: give it a directory of its own), stop it afterwards."""
    assert WEB_PUSH_TESTING.exists(), "run `make node` (npm ci) for the local push service"
    port = free_port()
    subprocess.run([str(WEB_PUSH_TESTING), "--port", str(port), "start"], cwd=workdir,
                   check=True, capture_output=True, timeout=30)
    base = f"http://localhost:{port}"
    for _ in range(100):
        try:
            requests.post(f"{base}/status", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    try:
        yield WebPushTesting(base)
    finally:
        pid = None
        for stored in (Path(workdir) / ".node-persist" / "storage").glob("*"):
            item = json.loads(stored.read_text())
            if item.get("key") == "processData":
                pid = item["value"].get(str(port))
        if pid:
            os.kill(pid, signal.SIGTERM)
        else:
            subprocess.run([str(WEB_PUSH_TESTING), "--port", str(port), "stop"], cwd=workdir,
                           capture_output=True, timeout=30)
