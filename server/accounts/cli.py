import sys

import click
from flask.cli import with_appcontext

from ..extensions import db
from . import service
from .models import ROLES, Staff


@click.group(help="Staff accounts.")
def staff():
    pass


def _staff_or_fail(username):
    found = service.get_staff(username)
    if found is None:
        raise click.ClickException(f"No staff account called {username}.")
    return found


@staff.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="outreach < moderator < admin")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@with_appcontext
def create(username, role, password_stdin):
    """Create a staff account; the password is asked for twice (at least 12 characters)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        created = service.create_staff(username, password, role)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {created.role} {created.username}.")


@staff.command("list")
@with_appcontext
def list_staff():
    """Every staff account with its role and state."""
    for row in db.session.execute(db.select(Staff).order_by(Staff.username)).scalars():
        state = "active" if row.active else "disabled"
        second = " totp" if row.totp_secret else ""
        click.echo(f"{row.username}\t{row.role}\t{state}{second}")


@staff.command("revoke-sessions")
@click.argument("username")
@with_appcontext
def revoke_sessions(username):
    """Log a staff member out everywhere (a lost or shared computer)."""
    count = service.revoke_sessions(_staff_or_fail(username))
    click.echo(f"Revoked {count} session(s) of {service.normalise_username(username)}.")


@staff.command("disable")
@click.argument("username")
@with_appcontext
def disable(username):
    """Disable a staff account: no more logins, and its open sessions stop working."""
    service.disable_staff(_staff_or_fail(username))
    click.echo(f"Disabled {service.normalise_username(username)}; their sessions are revoked.")


@staff.command("reset-totp")
@click.argument("username")
@with_appcontext
def reset_totp(username):
    """Turn off a staff member's second factor (a lost phone); they can set it up again."""
    service.reset_totp(_staff_or_fail(username))
    click.echo(f"Second factor off for {service.normalise_username(username)}.")


commands = [staff]
