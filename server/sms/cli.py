"""`flask sms worker` and `flask sms kannel-config`."""
import logging
import secrets
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from .kannel import kannel_config
from .sender import Sender

sms = AppGroup("sms", help="Text messages: the sender and the gateway's configuration.")


@sms.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--concurrency", type=click.IntRange(1, 100), default=None)
def worker(once, concurrency):
    """Send queued texts through the gateway (runs until stopped with Ctrl-C or SIGTERM)."""
    # Progress lines: counts only, never a number or a text.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        sender = Sender(current_app._get_current_object(), concurrency=concurrency)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if once:
        totals = sender.run_once()
    else:
        stop = threading.Event()
        # Stop after the round in hand: what is claimed gets sent and recorded first.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo("sms worker: sending (Ctrl-C to stop)")
        totals = sender.run_forever(stop)
    click.echo("sms worker: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


@sms.command("kannel-config")
@click.option("--callback-url", default="http://127.0.0.1:5000", show_default=True,
              help="How Kannel reaches this server.")
def kannel_conf(callback_url):
    """Print a kannel.conf for this server (set the SMS_* settings it names first)."""
    config = current_app.config
    secret = config["SMS_GATEWAY_SECRET"]
    password = config["SMS_KANNEL_PASSWORD"]
    if not secret or not password:
        raise click.ClickException(
            "Set SMS_GATEWAY_SECRET and SMS_KANNEL_PASSWORD first, e.g. to: "
            f"{secrets.token_urlsafe(24)}")
    click.echo(kannel_config(callback_url=callback_url, secret=secret,
                             username=config["SMS_KANNEL_USERNAME"], password=password))
