"""The sender inside the web server (`make run`, PUSH_WORKER_IN_PROCESS=1): the embedded
setup needs no second process. gunicorn.conf.py starts it in every worker; lock files
let at most one per core send at a time (senders share the queue safely, and a fan-out
to thousands of devices is CPU-bound: one per core uses the machine)."""
import fcntl
import logging
import os
import threading
from pathlib import Path

from .sender import Sender

log = logging.getLogger(__name__)

_in_process = {}


def start_in_process(app):
    """Start a sender thread in this web-server process when PUSH_WORKER_IN_PROCESS is on.

    Every gunicorn worker calls this; each sender holds one of os.cpu_count() lock files
    while it runs. Workers that find none free keep trying, so if a sending worker dies
    or is recycled, another takes over (its claims expire after the lease and are sent
    again). Returns the thread, or None when off or already started in this process."""
    if not app.config.get("PUSH_WORKER_IN_PROCESS") or "thread" in _in_process:
        return None
    folder = Path(app.config["VAPID_PRIVATE_KEY_FILE"]).parent
    stop = threading.Event()

    def run():
        folder.mkdir(parents=True, exist_ok=True)
        while not stop.is_set():
            lock = _take_a_slot(folder)
            if lock is None:
                stop.wait(5)
                continue
            log.info("push: sender running in this web-server process")
            try:
                Sender(app).run_forever(stop)
            except Exception:
                log.exception("push: in-process sender stopped; restarting in 5 s")
                stop.wait(5)
            finally:
                lock.close()  # releases the lock

    thread = threading.Thread(target=run, name="push-sender", daemon=True)
    _in_process.update(thread=thread, stop=stop)
    thread.start()
    return thread


def _take_a_slot(folder):
    """An open, locked push-sender-N.lock (N < the number of cores), or None."""
    for slot in range(os.cpu_count() or 1):
        lock = open(folder / f"push-sender-{slot}.lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            lock.close()
    return None


def stop_in_process(timeout=10):
    """Stop the in-process sender after the batch in hand (gunicorn's worker_exit)."""
    if "thread" in _in_process:
        _in_process["stop"].set()
        _in_process.pop("thread").join(timeout)
