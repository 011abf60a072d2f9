"""gunicorn settings. The access log never carries the client address or user agent."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
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


def worker_exit(server, worker):
    from server.push.embedded import stop_in_process
    stop_in_process()
