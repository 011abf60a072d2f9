"""A member's check of one identifier against the live alerts."""
from flask import current_app

from ..accounts.models import Member
from ..extensions import db
from ..identifiers import normalise, service as identifiers

MESSAGES = {
    "none": "No warning matches this. Stay careful: not every bad date is reported.",
    "found": "Warnings match this. Read them before you decide.",
    "withheld": "A warning exists for this. Contact the project before you meet.",
}


class NotAnIdentifier(ValueError):
    pass


def check_identifier(member, kind, value):
    """-> {"alerts", "withheld", "message"}; counts the check against the member.
    Raises NotAnIdentifier when nothing usable is left after normalising."""
    region = current_app.config["DEFAULT_PHONE_REGION"]
    if kind == "phone" and normalise.read_phone(value, region)[1] in (
            "several_numbers", "letters_in_number"):
        raise NotAnIdentifier("Type one phone number, in digits.")
    if normalise.normalise(kind, value, region) is None:
        raise NotAnIdentifier(f"This does not look like a {kind}.")
    alerts, withheld = identifiers.check(kind, value)
    # An SQL increment, so concurrent checks from one device are all counted.
    member.check_count = Member.check_count + 1
    if db.engine.dialect.name == "postgresql":
        # A lost count after a crash harms nobody: don't wait for the WAL flush here
        # (reports and deliveries keep synchronous_commit=on).
        db.session.execute(db.text("SET LOCAL synchronous_commit = off"))
    db.session.commit()
    message = MESSAGES["withheld" if withheld else "found" if alerts else "none"]
    return {"alerts": alerts, "withheld": withheld, "message": message}
