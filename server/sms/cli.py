"""`flask sms worker` and `flask sms kannel-config`."""
import secrets

import click
from flask import current_app
from flask.cli import AppGroup

from .. import workers
from .kannel import kannel_config
from .sender import Sender

sms = AppGroup("sms", help="Text messages: the sender and the gateway's configuration.")


@sms.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--concurrency", type=click.IntRange(1, 100), default=None)
def worker(once, concurrency):
    """Send queued texts through the gateway (runs until stopped with Ctrl-C or SIGTERM)."""
    try:
        sender = Sender(current_app._get_current_object(), concurrency=concurrency)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    workers.run(sender, "sms worker", once)


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
