"""Police packs: the reports whose reporter agreed to share them with the police, each
carrying only what that reporter agreed to.

pack_rows() is the one place that decides what leaves for the police; the printable
page and the CSV both show its rows and nothing else. Each row is built from an
allow-list per consent level (FIELDS), so a column added to reports later never reaches
a pack by accident, and contact details are decrypted only for `with_contact`.
"""
import base64

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy.orm import contains_eager

from ..accounts.service import record
from ..areas.models import Area
from ..crypto import decrypt_contact
from ..extensions import db
from ..printing import t
from ..reports.models import Report
from ..security import keyed_digest

# `reference`: what the police quote back to the project (see reference()); not the
# report id, which was made on the reporter's phone and could tie the pack to that phone.
# `police_consent`: what the reporter agreed to, so the police know why a row has no
# contact details and that they must not seek the reporter out.
INCIDENT_FIELDS = ("reference", "police_consent", "occurred_on", "part_of_day", "area",
                   "incident_types", "description")
OFFENDER_TEXT = ("gender", "age_range", "height", "build", "skin", "hair", "accent", "marks")
OFFENDER_LISTS = ("names", "phones", "emails", "handles")
VEHICLE = ("make", "model", "colour", "plate")
OFFENDER_FIELDS = (tuple(f"offender_{name}" for name in OFFENDER_TEXT + OFFENDER_LISTS)
                   + tuple(f"offender_vehicle_{name}" for name in VEHICLE)
                   + ("offender_contact_method",))
CONTACT_PARTS = ("name", "phone", "email", "note")
CONTACT_FIELDS = tuple(f"reporter_{name}" for name in CONTACT_PARTS)

# What each consent level lets the police have. "none" is not here: never in a pack.
FIELDS = {
    "offender_only": INCIDENT_FIELDS + OFFENDER_FIELDS,
    "with_contact": INCIDENT_FIELDS + OFFENDER_FIELDS + CONTACT_FIELDS,
}
SHAREABLE = tuple(FIELDS)


def reference(report_id):
    """A short reference for a report, keyed with SECRET_KEY: stable across packs, and
    staff can find the report from it (report_for_reference), nobody else can."""
    digest = keyed_digest(current_app.config["SECRET_KEY"], "police-reference", str(report_id))
    code = base64.b32encode(digest).decode("ascii")[:10]
    return f"{code[:5]}-{code[5:]}"


def _shareable(date_from=None, date_to=None, area_slugs=()):
    query = (db.select(Report).join(Area, Report.area_id == Area.id)
             .options(contains_eager(Report.area))
             .where(Report.consent_police.in_(SHAREABLE)))
    if date_from is not None:
        query = query.where(Report.occurred_on >= date_from)
    if date_to is not None:
        query = query.where(Report.occurred_on <= date_to)
    if area_slugs:
        query = query.where(Area.slug.in_(list(area_slugs)))
    return query.order_by(Report.occurred_on, Report.received_at, Report.id)


def shareable_reports(date_from=None, date_to=None, area_slugs=()):
    return db.session.execute(_shareable(date_from, date_to, area_slugs)).scalars().all()


def pack_rows(date_from=None, date_to=None, area_slugs=()):
    """The police pack: one dict per report that may be shared, oldest incident first,
    with exactly the keys FIELDS[its consent] (values: text, None, or a list of text)."""
    return [pack_row(report) for report in shareable_reports(date_from, date_to, area_slugs)]


def pack_row(report):
    consent = report.consent_police
    if consent not in FIELDS:  # "none", or a value this code does not know: share nothing
        raise ValueError(f"report {report.id} may not be shared with the police")
    offender = report.offender or {}
    vehicle = offender.get("vehicle") or {}
    values = {
        "reference": reference(report.id),
        "police_consent": consent,
        "occurred_on": report.occurred_on.isoformat(),
        "part_of_day": report.part_of_day,
        "area": report.area.name,
        "incident_types": list(report.incident_types or []),
        "description": report.description,
        "offender_contact_method": offender.get("contact_method"),
    }
    values.update({f"offender_{name}": offender.get(name) for name in OFFENDER_TEXT})
    values.update({f"offender_{name}": list(offender.get(name) or []) for name in OFFENDER_LISTS})
    values.update({f"offender_vehicle_{name}": vehicle.get(name) for name in VEHICLE})
    if consent == "with_contact":
        values.update(_contact_values(report))
    return {name: values[name] for name in FIELDS[consent]}


def _contact_values(report):
    contact = {}
    if report.contact_encrypted is not None:
        try:
            contact = decrypt_contact(report.contact_encrypted)
        except InvalidToken:
            current_app.logger.error("report %s: contact details cannot be decrypted "
                                     "(SECRET_KEY or CONTACT_KEY changed)", report.id)
            # Said in the note column, so the pack does not look as if none were given.
            contact = {"note": t("police.contact_unreadable")}
    return {f"reporter_{name}": contact.get(name) for name in CONTACT_PARTS}


def produce_pack(staff, date_from=None, date_to=None, area_slugs=()):
    """pack_rows(), audited: one `police_pack` event for the pack (its target_id is the
    number of reports) and one `police_pack_report` per report in it, so the audit trail
    shows which reports went to the police and who gave them. Ids only, never report
    text. Commits."""
    reports = shareable_reports(date_from, date_to, area_slugs)
    rows = [pack_row(report) for report in reports]
    record(staff, "police_pack", "police_pack", len(reports))
    for report in reports:
        record(staff, "police_pack_report", "report", report.id)
    db.session.commit()
    return rows


def columns(rows):
    """The CSV columns: those of the widest consent level in the pack."""
    if any(row["police_consent"] == "with_contact" for row in rows):
        return FIELDS["with_contact"]
    return FIELDS["offender_only"]


def report_for_reference(text):
    """The shareable report a pack reference points at, or None (staff tools)."""
    wanted = (text or "").strip().upper()
    for report in db.session.execute(_shareable()).scalars():
        if reference(report.id) == wanted:
            return report
    return None
