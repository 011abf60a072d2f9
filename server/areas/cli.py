from pathlib import Path

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from . import service


@click.group(help="Regions and areas.")
def areas():
    pass


@areas.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file):
    """Load regions and areas from a CSV or JSON FILE (created or updated by slug)."""
    fmt = "json" if file.suffix.lower() == ".json" else "csv"
    try:
        rows = service.parse_areas(file.read_text(encoding="utf-8"), fmt)
    except (ValidationError, ValueError) as error:
        raise click.ClickException(f"{file}: {getattr(error, 'messages', error)}") from None
    created, updated = service.import_areas(rows)
    click.echo(f"{created} areas created, {updated} updated")
