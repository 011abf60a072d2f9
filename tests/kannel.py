"""A real SMS gateway for tests and benchmarks: Kannel's bearerbox and smsbox (Debian's
`kannel`) with a fake SMSC, and Kannel's own fakesmsc (`kannel-extras`) as the phone
network: it injects texts "from a phone" and prints every text the gateway sends out.

Everything runs on free ports in a temporary directory and is stopped at the end.
Kannel is started with the configuration that `flask sms kannel-config` prints
(server/sms/kannel.py), so the documented setup is the tested one.
"""
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from server.sms.kannel import kannel_config

from pushservice import free_port

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
# Debian puts the boxes in /usr/sbin, which is not on a normal user's PATH.
BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
GATEWAY_NUMBER = "12345"
USERNAME = "redflag"
PASSWORD = "kannel-test-password"
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (.*)>$")


def installed():
    return all(os.access(path, os.X_OK) for path in (BEARERBOX, SMSBOX, FAKESMSC))


def _decode(kind_and_data):
    """fakesmsc's "text MSG" | "data %xx.." | "udh %xx.. data %xx.." -> (udh bytes, str)."""
    kind, _, rest = kind_and_data.partition(" ")
    udh = b""
    if kind == "udh":
        udh_text, _, rest = rest.partition(" ")
        udh = urllib.parse.unquote_to_bytes(udh_text)
        kind, _, rest = rest.partition(" ")
    if kind == "text":
        return udh, rest
    data = urllib.parse.unquote_to_bytes(rest.replace("+", "%20"))
    # The line does not name the coding: UCS-2 text has a zero high byte for Latin letters.
    if len(data) % 2 == 0 and data[0::2].count(0) >= len(data) // 4:
        return udh, data.decode("utf-16-be", "replace")
    return udh, data.decode("latin-1")


class PhoneNetwork:
    """fakesmsc as the phone network. Only one fakesmsc can be connected at a time, so
    texting in replaces the listening one by one that sends a single text and then keeps
    listening; everything each of them printed is collected in `received`."""

    def __init__(self, port, workdir):
        self.port = port
        self.workdir = Path(workdir)
        self.received = []          # [(sender, to, text)] for whole texts, in arrival order
        self.arrival = []           # time.monotonic() of each entry of `received`
        self._parts = {}
        self._lock = threading.Lock()
        self._process = None
        self._count = 0

    def _start(self, message=None):
        self._count += 1
        args = [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.port), "-i", "0.01"]
        args += ["-m", "1", message] if message else ["-m", "0", "0 0 text -"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, errors="replace")
        threading.Thread(target=self._read, args=(process,), daemon=True).start()
        self._process = process

    def _read(self, process):
        for line in process.stderr:
            found = _GOT.search(line.rstrip("\n"))
            if found:
                self._got(*found.groups())

    def _got(self, sender, to, rest):
        udh, text = _decode(rest)
        with self._lock:
            if len(udh) >= 6 and udh[1] == 0:  # a part of a long text: join the parts
                key, total, number = (sender, to, udh[3]), udh[4], udh[5]
                parts = self._parts.setdefault(key, {})
                parts[number] = text
                if len(parts) < total:
                    return
                text = "".join(parts[i] for i in sorted(parts))
                del self._parts[key]
            self.received.append((sender, to, text))
            self.arrival.append(time.monotonic())

    def listen(self):
        self._start()

    def text_in(self, sender, text, to=GATEWAY_NUMBER):
        """A text from `sender` to the gateway's number."""
        self.stop()
        self._start(f"{sender} {to} text {text}")

    def to(self, number):
        with self._lock:
            return [text for _sender, to, text in self.received if to == number]

    def wait_for(self, count, timeout=20):
        """Wait until `count` texts in all have arrived; returns how many did."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.received)

    def settle(self, quiet=0.5, timeout=10):
        """Wait until nothing has arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            if len(self.received) == seen:
                return
            seen = len(self.received)
            time.sleep(quiet)

    def clear(self):
        with self._lock:
            self.received.clear()
            self.arrival.clear()

    def stop(self):
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


class Kannel:
    def __init__(self, workdir, callback_url, secret):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("admin", "smsbox", "sendsms", "smsc")}
        self.config = self.workdir / "kannel.conf"
        smsc = (f"smsc = fake\nsmsc-id = fake\nport = {self.ports['smsc']}\n"
                "connect-allow-ip = 127.0.0.1")
        self.config.write_text(kannel_config(
            callback_url=callback_url, secret=secret, username=USERNAME, password=PASSWORD,
            admin_password="kannel-admin", admin_port=self.ports["admin"],
            smsbox_port=self.ports["smsbox"], sendsms_port=self.ports["sendsms"], smsc=smsc,
            log_dir=self.workdir, log_level=1))
        self.sendsms_url = f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"
        self.phones = PhoneNetwork(self.ports["smsc"], self.workdir)
        self.processes = []

    def start(self):
        out = open(self.workdir / "boxes.out", "ab")
        self.processes.append(subprocess.Popen([BEARERBOX, str(self.config)], stdout=out,
                                               stderr=out, cwd=self.workdir))
        # smsbox gives up at once if bearerbox is not listening yet.
        self._wait_until_answers(f"http://127.0.0.1:{self.ports['admin']}/status.txt", "bearerbox")
        self.processes.append(subprocess.Popen([SMSBOX, str(self.config)], stdout=out,
                                               stderr=out, cwd=self.workdir))
        self._wait_until_answers(self.sendsms_url, "smsbox")
        self.phones.listen()
        self._wait_for_smsc()

    def _wait_until_answers(self, url, box, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers (400/403 for a request with no user): it is up
            except OSError:
                if any(p.poll() is not None for p in self.processes):
                    break  # a box exited (its port taken by someone else, say)
                time.sleep(0.1)
        raise RuntimeError(f"Kannel's {box} did not start: see {self.workdir}")

    def status(self):
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password=kannel-admin"
        return urllib.request.urlopen(url, timeout=2).read().decode()

    def _wait_for_smsc(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"fake\[fake\].*\(online", self.status()):
                return
            time.sleep(0.1)
        raise RuntimeError(f"fakesmsc did not connect: see {self.workdir}")

    def stop(self):
        self.phones.stop()
        for process in reversed(self.processes):
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(3)  # bearerbox can take long to drain: it keeps nothing we need
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


@contextmanager
def running_kannel(workdir, callback_url, secret, attempts=3):
    """Kannel with a fake SMSC and fakesmsc connected; stopped on exit. Free ports are
    picked by binding to port 0 and letting go, so another program may take one first:
    then it starts again on other ports."""
    for attempt in range(attempts):
        kannel = Kannel(Path(workdir) / f"try{attempt}", callback_url, secret)
        try:
            kannel.start()
            break
        except RuntimeError:
            kannel.stop()
            if attempt == attempts - 1:
                raise
    try:
        yield kannel
    finally:
        kannel.stop()
