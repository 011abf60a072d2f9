"""`flask push keys` and `flask push worker`."""

import click
from flask import current_app
from flask.cli import AppGroup

from .. import workers
from ..extensions import db
from .models import Subscription
from .sender import Sender
from .service import delete_subscriptions
from .vapid import NoKey, create_key, load_key, public_key

push = AppGroup("push", help="Web Push: the VAPID key pair and the sender.")


@push.command("keys")
@click.option("--force", is_flag=True,
              help="Replace the existing key. Every device must subscribe again.")
def keys(force):
    """Make the VAPID key pair, unless one exists."""
    path = current_app.config["VAPID_PRIVATE_KEY_FILE"]
    if not create_key(path, force=force):
        click.echo(f"VAPID key exists: {path} (use --force to replace it)")
    else:
        click.echo(f"VAPID key pair written: {path}")
        if force:
            # Subscriptions are bound to the old key: push services refuse our messages
            # to them now. Devices subscribe again when they see the new key.
            ids = list(db.session.execute(db.select(Subscription.id)).scalars())
            delete_subscriptions(ids, "server key replaced")
            db.session.commit()
            click.echo(f"{len(ids)} subscriptions removed (they used the old key)")
    click.echo(f"public key: {public_key(load_key(path))}")


@push.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=None)
@click.option("--concurrency", type=click.IntRange(1, 1000), default=None)
def worker(once, batch_size, concurrency):
    """Send queued push deliveries as alerts are published (until Ctrl-C or SIGTERM)."""
    overrides = {}
    if batch_size:
        overrides["push_batch_size"] = batch_size
    if concurrency:
        overrides["push_concurrency"] = concurrency
    try:
        sender = Sender(current_app._get_current_object(), **overrides)
    except NoKey as error:
        raise click.ClickException(str(error)) from None
    workers.run(sender, "push worker", once)
