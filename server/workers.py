"""Running a sender (push or SMS) from its `flask ... worker` command."""
import logging
import signal
import threading

import click


def run(sender, name, once=False):
    """Run `sender` (run_once() / run_forever(stop) -> {outcome: count}) once, or until
    SIGTERM or Ctrl-C, then print its totals. It stops after the batch in hand: what is
    claimed gets sent and recorded first. Log lines are counts only: never an endpoint,
    a number or a text."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if once:
        totals = sender.run_once()
    else:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"{name}: sending (Ctrl-C to stop)")
        totals = sender.run_forever(stop)
    click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
