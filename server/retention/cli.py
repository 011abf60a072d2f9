"""`flask retention run [--dry-run] [--as-of YYYY-MM-DD]`: purge what is past its period.

Run it daily (a systemd timer or cron line is in the README). --as-of pretends the date
is another one, to see (with --dry-run) what will go on that day."""
from datetime import UTC, datetime, time

import click
from flask.cli import with_appcontext

from . import service


@click.group()
def retention():
    """Data kept only as long as needed."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as if today were this date (UTC midnight), e.g. to preview a date.")
@with_appcontext
def run(dry_run, as_of):
    """Purge contact details, closed cases, old reports (kept as anonymous counts),
    expire old alerts, revoke idle members and delete old audit rows. Prints the count
    and the ids per kind (ids only, never content); a real run writes one audit row."""
    now = datetime.combine(as_of.date(), time(), UTC) if as_of else None
    due = service.run(now=now, dry_run=dry_run)
    verb = "would go" if dry_run else "gone"
    for kind in service.KINDS:
        ids = due[kind]
        click.echo(f"{kind}: {len(ids)} {verb}")
        for item in ids:
            click.echo(f"  {item}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
