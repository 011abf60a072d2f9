"""Demo data for a laptop try-out: London areas, a demo moderator and a demo invite."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .areas import service as areas_service

DEMO_DIR = Path(__file__).resolve().parent / "demo"


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
