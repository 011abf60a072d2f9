"""gunicorn settings. The access log never carries the client address or user agent."""
import os
from pathlib import Path

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Rate limits count in process memory unless RATELIMIT_STORAGE_URI names a shared store
# (Redis): memory is exact only in one process, so the embedded setup (`make run`) runs one
# worker with threads, and more workers are refused until the counters are shared.
_shared_limits = not os.environ.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if _shared_limits else "1"))
if workers > 1 and not _shared_limits:
    raise SystemExit(f"WEB_CONCURRENCY={workers} needs RATELIMIT_STORAGE_URI (redis://...): "
                     "in-memory rate limits count per worker process (README, Deployment)")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# No control socket (gunicornc): it could add workers past the refusal above, and every
# instance run by one user shares its one default path, so stopping one removed another's.
control_socket_disable = True
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# The default access-log line starts with %(h)s, the client IP: log only what we need.
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# No client address in any log line (gunicorn's error log names it for malformed requests),
# and gunicorn's own error answers in the app's JSON with its security headers.
logger_class = "server.serving.GunicornLogger"
from server.serving import use_json_error_pages  # noqa: E402

use_json_error_pages()


def post_worker_init(worker):
    # PUSH_WORKER_IN_PROCESS (`make run`): up to one worker per core also runs a push sender,
    # so the embedded setup needs no second process. Production runs `flask push worker`.
    from server.push.embedded import start_in_process
    start_in_process(worker.wsgi)
    # SMS_WORKER_IN_PROCESS (`make run`) with SMS_GATEWAY set: one worker sends texts.
    from server.sms import sender
    sender.start_in_process(worker.wsgi, Path(worker.wsgi.config["VAPID_PRIVATE_KEY_FILE"])
                            .with_name("sms-sender.lock"))
    # The app's ~170k long-lived objects (modules, models, the API spec) put out of the
    # cyclic collector's reach: a full collection scanned them all, 30-100 ms inside
    # whichever request set it off (bench/feed.py: the p99 of a member feed page).
    import gc
    gc.collect()
    gc.freeze()


def worker_exit(server, worker):
    from server.push.embedded import stop_in_process
    stop_in_process()
    from server.sms import sender
    sender.stop_in_process()
