"""Demo data for a laptop try-out: London areas, a demo moderator and a demo invite."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .accounts import service as accounts_service
from .accounts.models import Staff
from .areas import service as areas_service
from .extensions import db

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_MODERATOR = "demo-moderator"
DEMO_PASSWORD = "redflag-demo-moderator"
DEMO_INVITE = "DEMO-2026"
DEMO_INVITE_DAYS = 30


def load_demo_accounts():
    """On a database with no staff at all, make the demo moderator and the demo invite.
    Returns True when it made them. A database with any staff account is left alone, so
    a real deployment never gets a known password."""
    if db.session.execute(db.select(Staff.id).limit(1)).first() is not None:
        return False
    moderator = accounts_service.create_staff(DEMO_MODERATOR, DEMO_PASSWORD, "moderator")
    accounts_service.create_invite(moderator, note="demo invite",
                                   valid_hours=DEMO_INVITE_DAYS * 24, code=DEMO_INVITE)
    return True


@click.group(help="Demo data (never in production).")
def demo():
    pass


@demo.command("load")
@with_appcontext
def load():
    """Load the London demo areas; on a new database also the demo accounts."""
    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("Demo data is never loaded in production.")
    rows = areas_service.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv")
    created, updated = areas_service.import_areas(rows)
    click.echo(f"demo areas: {created} created, {updated} updated")
    if load_demo_accounts():
        click.echo(f"demo moderator: {DEMO_MODERATOR} / password {DEMO_PASSWORD}")
        click.echo(f"demo invite code: {DEMO_INVITE} (valid {DEMO_INVITE_DAYS} days, single use)")
