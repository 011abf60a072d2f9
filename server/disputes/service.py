"""Disputes: a person who believes an alert wrongly describes them objects, with no
account, and follows the outcome with a receipt.

What a dispute can never do: reveal who reported, or what an alert says beyond what the
objector gave. Filing answers the same whether or not any alert carries the identifier
(it is not a way to check a number), and the objector only ever sees the status and the
reason staff wrote for them. Nothing about a dispute reaches members.

Staff (moderators) decide: upheld (the identifier is withdrawn from checks and taken out
of every alert that carried it; staff may also retract those alerts) or not upheld, each
with a reason, audited.
"""
import base64
import hashlib
import secrets

from cryptography.fernet import InvalidToken
from flask import current_app

from ..accounts.service import record
from ..alerts import service as alerts
from ..alerts.models import Alert
from ..clock import utcnow
from ..crypto import decrypt_text, encrypt_text
from ..errors import Invalid, NotFound, Refused
from ..extensions import db
from ..identifiers import normalise
from ..identifiers import service as identifiers
from ..identifiers.models import Identifier
from ..moderation import publishing
from ..security import same
from .models import Dispute

RECEIPT_CHARS = 26  # base32: 130 bits


def _hash(receipt):
    return hashlib.sha256(receipt.encode("utf-8")).hexdigest()


def _region():
    return current_app.config.get("DEFAULT_PHONE_REGION", "GB")


def file_dispute(kind, raw, statement, contact=None):
    """Store a dispute; returns (dispute, receipt). The receipt is shown once and only its
    hash is kept. Raises Invalid (not_an_identifier) when nothing usable is left of the
    identifier after normalising. Commits."""
    value = normalise.normalise(kind, raw, _region())
    if value is None:
        raise Invalid({"identifier": ["This does not look like one of those."]},
                      code="not_an_identifier")
    receipt = base64.b32encode(secrets.token_bytes(20)).decode("ascii")[:RECEIPT_CHARS]
    dispute = Dispute(receipt_hash=_hash(receipt), identifier_kind=kind, identifier_value=value,
                      statement_encrypted=encrypt_text(statement),
                      contact_encrypted=encrypt_text(contact) if contact else None)
    db.session.add(dispute)
    db.session.commit()
    return dispute, receipt


def dispute_for_receipt(dispute_id, receipt):
    """The dispute if the receipt fits, else None (unknown id and wrong receipt alike)."""
    dispute = db.session.get(Dispute, dispute_id) if isinstance(dispute_id, int) else None
    fits = same(_hash(receipt or ""), dispute.receipt_hash if dispute else "0" * 64)
    return dispute if dispute is not None and fits else None


def public_view(dispute):
    """What the objector sees: status, and the outcome's reason once decided."""
    return {"id": dispute.id, "status": dispute.status, "filed_at": dispute.created_at,
            "decided_at": dispute.decided_at, "reason": dispute.reason}


# --- Staff ---------------------------------------------------------------------------------

def get_dispute(dispute_id):
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(code="dispute_not_found")
    return dispute


def _carrying(dispute):
    """Published alerts (live or not) that carry the disputed identifier, newest first:
    found through the same index that checks use."""
    return db.session.execute(
        db.select(Alert).join(Identifier, Identifier.alert_id == Alert.id)
        .where(Identifier.kind == dispute.identifier_kind,
               Identifier.value == dispute.identifier_value)
        .order_by(Alert.published_at.desc())).scalars().all()  # one index row per alert


def dispute_queue(statuses=(), limit=50, offset=0):
    """(disputes, total): open ones first, oldest first."""
    query = db.select(Dispute)
    count = db.select(db.func.count(Dispute.id))
    if statuses:
        query, count = (q.where(Dispute.status.in_(list(statuses))) for q in (query, count))
    order = db.case({"open": 0}, value=Dispute.status, else_=1)
    rows = db.session.execute(query.order_by(order, Dispute.created_at, Dispute.id)
                              .limit(limit).offset(offset)).scalars().all()
    return rows, db.session.execute(count).scalar_one()


def summary(dispute):
    return {"id": dispute.id, "status": dispute.status, "filed_at": dispute.created_at,
            "identifier_kind": dispute.identifier_kind,
            "identifier": dispute.identifier_value,
            "decided_at": dispute.decided_at,
            "decided_by": dispute.decided_by.username if dispute.decided_by else None,
            "reason": dispute.reason,
            "withdrawn": identifiers.is_withdrawn(dispute.identifier_kind,
                                                  dispute.identifier_value)}


def _text(token, dispute):
    try:
        return decrypt_text(token)
    except InvalidToken:
        current_app.logger.error("dispute %s: text cannot be decrypted (key changed)", dispute.id)
        return None


def open_detail(staff, dispute, now=None):
    """The dispute in full for a moderator: the statement, the way to reach the objector
    and the alerts carrying the identifier. Audited (dispute_viewed); commits."""
    now = now or utcnow()
    record(staff, "dispute_viewed", "dispute", dispute.id)
    db.session.commit()
    return {**summary(dispute),
            "statement": (_text(dispute.statement_encrypted, dispute)
                          if dispute.statement_encrypted else None),
            "contact": (_text(dispute.contact_encrypted, dispute)
                        if dispute.contact_encrypted is not None else None),
            "alerts": [{"id": a.id, "title": a.title, "status": alerts.status_of(a, now)}
                       for a in _carrying(dispute)]}


def _amend(alert, dispute):
    """Take the disputed identifier out of the alert (the feed and checks stop showing it)."""
    alert.identifiers = [
        item for item in alert.identifiers or []
        if not (item["kind"] == dispute.identifier_kind and normalise.normalise(
            item["kind"], item["value"], _region()) == dispute.identifier_value)]
    identifiers.index_alert(alert)


def decide(staff, dispute, outcome, reason, retract=False, now=None):
    """upheld or not_upheld, with a reason the objector reads. Upheld: the identifier is
    withdrawn from checks and taken out of every alert that carried it; with retract,
    those alerts that are live are retracted too (moderation's retraction, so their
    reports' status follows). Audited (dispute_upheld / dispute_not_upheld, and
    alert_amended per alert). Returns the dispute."""
    if dispute.status != "open":
        raise Refused(code="dispute_decided")
    if outcome not in ("upheld", "not_upheld"):
        raise ValueError(f"unknown outcome {outcome!r}")
    now = now or utcnow()
    dispute.status = outcome  # the one place a dispute's status changes: open -> decided
    dispute.reason = reason
    dispute.decided_at, dispute.decided_by_id = now, staff.id
    carrying = []
    if outcome == "upheld":
        carrying = _carrying(dispute)
        identifiers.withdraw(dispute.identifier_kind, dispute.identifier_value, now)
        for alert in carrying:
            _amend(alert, dispute)
            record(staff, "alert_amended", "alert", alert.id)
    record(staff, f"dispute_{outcome}", "dispute", dispute.id)
    db.session.commit()
    if retract:
        for alert in carrying:
            if alert.retracted_at is None and db.session.execute(
                    db.select(Alert.id).where(Alert.id == alert.id,
                                              alerts.live_clause(now))).first():
                publishing.retract_alert(staff, alert, now)
    return dispute


def still_indexed(dispute):
    """How many alert index rows still carry the identifier (0 once upheld)."""
    return db.session.execute(db.select(db.func.count(Identifier.id)).where(
        Identifier.kind == dispute.identifier_kind, Identifier.value == dispute.identifier_value,
        Identifier.alert_id.is_not(None))).scalar_one()


def erase_personal_data(ids):
    """Retention: the statements and contact details of these decided disputes go; the
    outcome (status, reason, dates) and its audit rows stay. The statement column is
    NOT NULL, so an erased one is ''. Open disputes are never touched. Does not commit."""
    db.session.execute(db.update(Dispute).where(Dispute.id.in_(ids), Dispute.status != "open")
                       .values(statement_encrypted="", contact_encrypted=None)
                       .execution_options(synchronize_session=False))
