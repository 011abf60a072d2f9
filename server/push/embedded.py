"""The sender inside the web server (`make run`, PUSH_WORKER_IN_PROCESS=1): the embedded
setup needs no second process. gunicorn.conf.py starts it in every worker; a lock file
lets exactly one of them send at a time."""
import fcntl
import logging
import threading
from pathlib import Path

from .sender import Sender

log = logging.getLogger(__name__)

_in_process = {}


def start_in_process(app):
    """Start a sender thread in this web-server process when PUSH_WORKER_IN_PROCESS is on.

    Every gunicorn worker calls this; a lock file lets exactly one of them send at a
    time. The others keep trying the lock, so if that worker dies or is recycled,
    another takes over (its claims expire after the lease and are sent again). Returns
    the thread, or None when off or already started."""
    if not app.config.get("PUSH_WORKER_IN_PROCESS") or "thread" in _in_process:
        return None
    lock_path = Path(app.config["VAPID_PRIVATE_KEY_FILE"]).with_name("push-sender.lock")
    stop = threading.Event()

    def run():
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            while not stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    stop.wait(5)
                    continue
                log.info("push: sender running in this web-server process")
                try:
                    Sender(app).run_forever(stop)
                except Exception:
                    log.exception("push: in-process sender stopped; restarting in 5 s")
                    stop.wait(5)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    thread = threading.Thread(target=run, name="push-sender", daemon=True)
    _in_process.update(thread=thread, stop=stop)
    thread.start()
    return thread


def stop_in_process(timeout=10):
    """Stop the in-process sender after the batch in hand (gunicorn's worker_exit)."""
    if "thread" in _in_process:
        _in_process["stop"].set()
        _in_process.pop("thread").join(timeout)
