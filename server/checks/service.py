"""A member's check of one identifier against the live alerts."""
from ..accounts.models import Member
from ..alerts.models import Alert
from ..alerts.service import live_clause
from ..clock import utcnow
from ..errors import Invalid
from ..extensions import db
from ..identifiers import normalise
from ..identifiers.models import Identifier
from ..identifiers.service import is_withdrawn

MESSAGES = {
    "none": "No warning matches this. Stay careful: not every bad date is reported.",
    "found": "Warnings match this. Read them before you decide.",
    "withheld": "A warning exists for this. Contact the project before you meet.",
}


class NotAnIdentifier(Invalid):
    """Nothing usable is left of the value after normalising (422 on `value`)."""
    code = "not_an_identifier"

    def __init__(self, message, code=None):
        super().__init__({"value": [message]}, message, code=code)


def check_identifier(member, kind, value):
    """-> {"alerts", "withheld", "message"}; counts the check against the member.
    Raises NotAnIdentifier when nothing usable is left after normalising."""
    region = normalise.default_region()
    if kind == "phone" and normalise.read_phone(value, region)[1] in (
            "several_numbers", "letters_in_number"):
        raise NotAnIdentifier("Type one phone number, in digits.", code="phone_not_one_number")
    normalised = normalise.normalise(kind, value, region)
    if normalised is None:
        raise NotAnIdentifier(f"This does not look like a {kind}.")
    alerts, withheld = matching_alerts(kind, normalised)
    # An SQL increment, so concurrent checks from one device are all counted.
    member.check_count = Member.check_count + 1
    if db.engine.dialect.name == "postgresql":
        # A lost count after a crash harms nobody: don't wait for the WAL flush here
        # (reports and deliveries keep synchronous_commit=on).
        db.session.execute(db.text("SET LOCAL synchronous_commit = off"))
    db.session.commit()
    message = MESSAGES["withheld" if withheld else "found" if alerts else "none"]
    return {"alerts": alerts, "withheld": withheld, "message": message}


def matching_alerts(kind, value, now=None):
    """The live alerts that carry this normalised identifier: (those that show it, in
    full or masked, newest first; whether one carries it hidden). A hidden identifier
    still matches, but its alert is not revealed: the member is told to contact the
    project. An identifier withdrawn from checks (an upheld dispute) matches nothing."""
    if is_withdrawn(kind, value):
        return [], False
    rows = db.session.execute(
        db.select(Alert, Identifier.display)
        .join(Identifier, Identifier.alert_id == Alert.id)
        .where(Identifier.kind == kind, Identifier.value == value,
               live_clause(now or utcnow()))
        .order_by(Alert.published_at.desc())).all()
    shown = [alert for alert, display in rows if display != "hidden"]
    withheld = any(display == "hidden" for _alert, display in rows)
    return shown, withheld
