"""Wake-ups: a sender sleeps until deliveries are queued, not on a timer.

    enqueue_deliveries() calls announce(session) -> the transaction commits
    -> every listening sender's Wakeup.wait() returns -> it claims the new deliveries

PostgreSQL: NOTIFY in the transaction that queues the deliveries. The database delivers
it on commit (never on rollback) to every sender that LISTENs, on any machine.
SQLite: after the commit, a datagram to each sender's local socket (Linux abstract
sockets named after the database file, one per sender, up to SLOTS; no file to clean
up). It reaches the senders wherever they run on this machine: a thread of this process
or of another gunicorn worker (`PUSH_WORKER_IN_PROCESS`), or `flask push worker`.

The sender's poll (PUSH_POLL_SECONDS) stays as the fallback: a listener reconnecting,
another operating system, more than SLOTS senders on one SQLite file.

Each queue has its own channel: push deliveries use CHANNEL, text messages
"sms_deliveries" (server/sms/sender.py waits with SyncWakeup, from a thread).
"""
import asyncio
import hashlib
import logging
import socket
import time

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "push_deliveries"
SLOTS = 8  # senders on one SQLite database that a publish wakes (one per core is plenty)
_PENDING = "push_wake"


def announce(session, channel=CHANNEL):
    """Wake the senders of `channel` once this session's transaction commits."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(sa.text(f"NOTIFY {channel}"))
    else:
        session.info.setdefault(_PENDING, set()).update(socket_names(bind.url, channel))


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    names = session.info.pop(_PENDING, None)
    if names:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for name in names:
                try:
                    sock.sendto(b"!", name)
                except OSError:
                    pass  # no sender in this slot, or its queue is full (so it is awake)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop(_PENDING, None)


def socket_names(url, channel=CHANNEL):
    """The abstract socket names of the senders for this SQLite database, one per slot."""
    digest = hashlib.sha256((url.database or "").encode()).hexdigest()[:32]
    prefix = "push" if channel == CHANNEL else channel
    return [f"\0redflag-{prefix}-{digest}-{slot}" for slot in range(SLOTS)]


class Wakeup:
    """Within `async with`, wait(seconds) returns when deliveries may have been queued
    since the last clear(), or after `seconds`."""

    def __init__(self, engine, channel=CHANNEL):
        self.engine = engine
        self.channel = channel
        self._event = asyncio.Event()
        self._tasks = []
        self._socket = None

    async def __aenter__(self):
        if self.engine.dialect.name == "postgresql":
            listening = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._listen(listening)))
            # Claim nothing before LISTEN is in place: a NOTIFY in between would be lost.
            await asyncio.wait_for(listening.wait(), 30)
        else:
            self._bind()
        return self

    async def __aexit__(self, *exc):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()

    def clear(self):
        self._event.clear()

    async def wait(self, seconds):
        """True when woken, False after `seconds`."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _bind(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for name in socket_names(self.engine.url, self.channel):
            try:
                sock.bind(name)
                break
            except OSError as error:
                failure = error  # the slot is taken by another sender (or no such sockets)
        else:
            sock.close()
            log.warning("push: no wake-up socket (%s): polling only",
                        failure.strerror or failure)
            return
        sock.setblocking(False)
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)

    def _readable(self):
        try:
            while self._socket.recv(16):
                pass
        except BlockingIOError:
            pass
        self._event.set()

    async def _listen(self, listening):
        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {self.channel}")
                    listening.set()
                    # (Re)connected: a NOTIFY may have gone by while we were not listening.
                    self._event.set()
                    async for _ in conn.notifies():
                        self._event.set()
            except (psycopg.Error, OSError) as error:
                log.warning("push: LISTEN connection lost (%s); polling, retrying in 5 s",
                            type(error).__name__)
                listening.set()  # poll meanwhile rather than not start at all
                await asyncio.sleep(5)


class SyncWakeup:
    """Wakeup for a sender that runs in a thread without an event loop: within `with`,
    wait(seconds) returns True when woken, False after `seconds`."""

    def __init__(self, engine, channel=CHANNEL):
        self.engine = engine
        self.channel = channel
        self._conn = None
        self._socket = None

    def __enter__(self):
        if self.engine.dialect.name == "postgresql":
            try:
                conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
                    hide_password=False)
                self._conn = psycopg.connect(conninfo, autocommit=True)
                self._conn.execute(f"LISTEN {self.channel}")
            except (psycopg.Error, OSError) as error:
                log.warning("%s: no LISTEN (%s): polling only", self.channel, type(error).__name__)
            return self
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for name in socket_names(self.engine.url, self.channel):
            try:
                sock.bind(name)
                self._socket = sock
                return self
            except OSError:
                continue  # the slot is taken by another sender
        sock.close()
        log.warning("%s: no wake-up socket: polling only", self.channel)
        return self

    def __exit__(self, *exc):
        if self._conn is not None:
            self._conn.close()
        if self._socket is not None:
            self._socket.close()

    def wait(self, seconds):
        if self._socket is not None:
            self._socket.settimeout(seconds)
            try:
                self._socket.recv(16)
            except TimeoutError:
                return False
            self._socket.setblocking(False)
            try:  # several wake-ups at once count as one
                while self._socket.recv(16):
                    pass
            except BlockingIOError:
                pass
            return True
        if self._conn is not None:
            try:
                return any(True for _ in self._conn.notifies(timeout=seconds, stop_after=1))
            except (psycopg.Error, OSError):
                log.warning("%s: LISTEN connection lost: polling only", self.channel)
                self._conn = None
        time.sleep(seconds)
        return False
