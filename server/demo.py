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
    Returns the moderator when it made them, else None. A database with any staff account is left alone, so
    a real deployment never gets a known password."""
    if db.session.execute(db.select(Staff.id).limit(1)).first() is not None:
        return None
    moderator = accounts_service.create_staff(DEMO_MODERATOR, DEMO_PASSWORD, "moderator")
    accounts_service.create_invite(moderator, note="demo invite",
                                   valid_hours=DEMO_INVITE_DAYS * 24, code=DEMO_INVITE)
    return moderator


DEMO_REPORTS = [
    {"id": "6f1c2b9e-4a7d-4c39-9a57-00000000d001", "occurred_on": "2026-11-20",
     "part_of_day": "night", "area": "hackney", "incident_types": ["robbery", "physical_assault"],
     "description": "Demo report: met through an online ad, took the money back by force.",
     "offender": {"gender": "man", "age_range": "40-50", "build": "heavy",
                  "phones": ["07700 900123"], "vehicle": {"colour": "silver", "plate": "AB12 CDE"},
                  "contact_method": "online_ad"},
     "consent": {"publish": True, "police": "anonymous_intelligence"}},
    {"id": "6f1c2b9e-4a7d-4c39-9a57-00000000d002", "occurred_on": "2026-11-24",
     "part_of_day": "evening", "area": "camden", "incident_types": ["refused_to_pay", "threats"],
     "description": "Demo report: refused to pay and threatened to come back.",
     "offender": {"phones": ["+44 7700 900123"]},
     "consent": {"publish": True, "police": "none"}},
]


def load_demo_content(moderator):
    """Two demo reports sharing a phone (so the repeat-offender link shows), one of them
    published as an alert in Hackney, so a member can check 07700 900123 at once."""
    from .moderation import publishing
    from .reports import service as reports
    from .reports.schemas import ReportSchema

    stored = [reports.submit_report(ReportSchema().load(r))[1] for r in DEMO_REPORTS]
    alert = publishing.create_alert(moderator, {
        "reports": [stored[0]], "title": "Demo: robbery by a man met online",
        "summary": "Arranged by an online ad, then took the money back by force. Heavy build, "
                   "40-50, silver car.",
        "severity": "dangerous", "incident_types": ["robbery", "physical_assault"],
        "areas": ["hackney"],
        "identifiers": [{"kind": "phone", "value": "07700 900123", "display": "full"},
                        {"kind": "plate", "value": "AB12 CDE", "display": "masked"}]})
    publishing.publish_alert(moderator, alert)


@click.group(help="Demo data (never in production).")
def demo():
    pass


@demo.command("load")
@click.option("--content/--no-content", default=True,
              help="On a new database, also the demo reports and a published demo alert.")
@with_appcontext
def load(content):
    """Load the London demo areas; on a new database also the demo accounts and content."""
    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("Demo data is never loaded in production.")
    rows = areas_service.parse_areas((DEMO_DIR / "london-areas.csv").read_text(), "csv")
    created, updated = areas_service.import_areas(rows)
    click.echo(f"demo areas: {created} created, {updated} updated")
    moderator = load_demo_accounts()
    if moderator is not None:
        click.echo(f"demo moderator: {DEMO_MODERATOR} / password {DEMO_PASSWORD}")
        click.echo(f"demo invite code: {DEMO_INVITE} (valid {DEMO_INVITE_DAYS} days, single use)")
        if content:
            load_demo_content(moderator)
            click.echo("demo content: 2 reports, 1 published alert (check 07700 900123)")
