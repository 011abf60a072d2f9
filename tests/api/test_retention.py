"""Retention, with the clock frozen at chosen moments: each kind of data goes exactly when
its period has passed and not a day before; reports leave anonymous counts behind; every
real run writes one audit row with the counts; a dry run changes nothing."""
import uuid
from datetime import timedelta

import sqlalchemy as sa

from server.accounts.models import AuditEvent, Member
from server.alerts.models import Alert
from server.cases.models import Case, CaseMessage, CaseNote
from server.clock import utcnow
from server.disputes import service as disputes
from server.disputes.models import Dispute
from server.extensions import db
from server.identifiers.models import Identifier
from server.reports.models import Report
from server.retention import service
from server.sms import service as sms
from server.sms.models import SmsDelivery, SmsMember
from server.stats.models import ReportTally
from server.stats.service import statistics

from factories import CONTACT, asks_support, case_of, make_draft, make_member, publish, send_report
from factories import read_messages as read

DAY = timedelta(days=1)


def report(report_id):
    return db.session.get(Report, uuid.UUID(report_id), populate_existing=True)


def count(model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def runs():
    return db.session.execute(sa.select(AuditEvent).filter_by(action="retention_run")
                              .order_by(AuditEvent.id)).scalars().all()


def received(report_id):
    return report(report_id).received_at.replace(tzinfo=None)


def at(report_id, days):
    """A moment `days` after the report came in (aware UTC)."""
    return report(report_id).received_at.replace(tzinfo=utcnow().tzinfo) + timedelta(days=days)


# --- Each kind, a day before and a day after its period ---------------------------------------

def test_contact_details_go_after_90_days(client, areas):
    report_id, _ = asks_support(client)
    service.run(now=at(report_id, 90) - DAY)
    assert report(report_id).contact_encrypted is not None
    due = service.run(now=at(report_id, 90) + DAY)
    assert due["contacts"] == [uuid.UUID(report_id)]
    row = report(report_id)
    assert row.contact_encrypted is None and row.description  # the report itself stays
    assert case_of(report_id) is not None


def test_contact_details_go_when_the_case_closes(client, areas, moderator):
    report_id, _ = asks_support(client)
    case_id = case_of(report_id).id
    service.run(now=at(report_id, 1))
    assert report(report_id).contact_encrypted is not None
    moderator.patch(f"/cases/{case_id}", json={"status": "closed"})
    assert service.run(now=at(report_id, 1))["contacts"] == [uuid.UUID(report_id)]
    assert report(report_id).contact_encrypted is None


def test_a_closed_case_goes_with_its_notes_and_messages_after_its_period(client, areas,
                                                                         moderator):
    report_id, receipt = asks_support(client)
    case_id = case_of(report_id).id
    moderator.post(f"/cases/{case_id}/notes", json={"body": "note"})
    moderator.post(f"/cases/{case_id}/messages", json={"body": "hello"})
    moderator.patch(f"/cases/{case_id}", json={"status": "closed"})
    closed_at = db.session.get(Case, case_id).closed_at.replace(tzinfo=utcnow().tzinfo)
    service.run(now=closed_at + 90 * DAY - DAY)
    assert db.session.get(Case, case_id) is not None and count(CaseNote) == 1
    assert service.run(now=closed_at + 90 * DAY + DAY)["cases"] == [case_id]
    db.session.expire_all()
    assert count(Case) == count(CaseNote) == count(CaseMessage) == 0
    assert report(report_id) is not None
    assert read(client, report_id, receipt).get_json() == {
        "case": None, "can_reply": False, "messages": []}


def test_an_open_case_is_never_purged_on_its_own(client, areas):
    report_id, _ = asks_support(client)
    assert service.run(now=at(report_id, 700))["cases"] == []
    assert case_of(report_id) is not None


def test_raw_reports_go_after_two_years_and_stay_as_anonymous_counts(client, areas):
    ids = [send_report(client, perpetrator="landlord", targeted_because=["sex_work"],
                       support={"requested": True, "contact": CONTACT},
                       offender={"phones": ["07700 900123"]})[0] for _ in range(5)]
    before = statistics()
    assert before["total"] == 5
    service.run(now=at(ids[-1], 730) - DAY)
    assert all(report(i) is not None for i in ids)
    due = service.run(now=at(ids[-1], 730) + DAY)
    assert sorted(due["reports"]) == sorted(uuid.UUID(i) for i in ids)
    db.session.expire_all()
    assert count(Report) == count(Identifier) == count(Case) == 0
    assert count(ReportTally) == 5
    tally = db.session.execute(sa.select(ReportTally)).scalars().first()
    assert tally.month.day == 1 and tally.perpetrator == "landlord"
    # The statistics count them still, by month, area, type, perpetrator and hate crime.
    after = statistics()
    assert after == before


def test_an_incident_is_counted_once_when_its_first_report_goes(client, areas):
    first, _ = send_report(client)
    report(first).received_at = report(first).received_at - timedelta(days=400)
    db.session.commit()
    later, _ = send_report(client)
    last, _ = send_report(client)
    for other in (later, last):
        report(other).linked_to_id = uuid.UUID(first)
    db.session.commit()
    total = lambda: sum(1 for r in db.session.execute(  # noqa: E731
        sa.select(Report).where(Report.linked_to_id.is_(None))).scalars()) + count(ReportTally)
    assert total() == 1
    # The first goes; the next one of the incident takes its place; nothing is tallied.
    due = service.run(now=at(first, 730) + DAY)
    assert due["reports"] == [uuid.UUID(first)]
    assert report(later).linked_to_id is None and report(last).linked_to_id == uuid.UUID(later)
    assert count(ReportTally) == 0 and total() == 1
    # Later the rest goes: one tally row for the incident.
    service.run(now=at(last, 730) + DAY)
    assert count(Report) == 0 and count(ReportTally) == 1


def test_live_alerts_without_expiry_expire_after_a_year(client, areas, moderator):
    report_id, _ = send_report(client)
    forever = make_draft(moderator, [report_id])
    publish(moderator, forever["id"])
    alert = db.session.get(Alert, uuid.UUID(forever["id"]))
    published_at = alert.published_at.replace(tzinfo=utcnow().tzinfo)
    service.run(now=published_at + 365 * DAY - DAY)
    assert db.session.get(Alert, alert.id, populate_existing=True).expires_at is None
    assert service.run(now=published_at + 365 * DAY + DAY)["alerts"] == [alert.id]
    expires = db.session.get(Alert, alert.id, populate_existing=True).expires_at
    assert expires.replace(tzinfo=None) == (published_at + 365 * DAY).replace(tzinfo=None)
    # Once it has an expiry it is not chosen again.
    assert service.run(now=published_at + 400 * DAY)["alerts"] == []


def test_members_not_seen_for_a_year_are_revoked(client, areas):
    idle, _ = make_member()
    active, headers = make_member()
    joined = idle.created_at.replace(tzinfo=utcnow().tzinfo)
    # Using the token notes the day it was seen.
    assert client.get("/api/v1/alerts", headers=headers).status_code == 200
    assert db.session.get(Member, active.id, populate_existing=True).last_seen_at is not None
    service.run(now=joined + 365 * DAY - DAY)
    assert db.session.get(Member, idle.id, populate_existing=True).revoked_at is None
    db.session.execute(sa.update(Member).where(Member.id == active.id)
                       .values(last_seen_at=joined + 200 * DAY))
    db.session.commit()
    assert service.run(now=joined + 365 * DAY + DAY)["members"] == [idle.id]
    assert db.session.get(Member, idle.id, populate_existing=True).revoked_at is not None
    assert db.session.get(Member, active.id, populate_existing=True).revoked_at is None


def test_audit_rows_go_after_two_years(client, areas, moderator):
    old = db.session.execute(sa.select(AuditEvent.id)).scalars().all()
    assert old  # the moderator's login
    first = db.session.get(AuditEvent, old[0]).at.replace(tzinfo=utcnow().tzinfo)
    assert service.run(now=first + 730 * DAY - DAY)["audit"] == []
    due = service.run(now=first + 730 * DAY + DAY + timedelta(hours=1))
    assert set(old) <= set(due["audit"])
    db.session.expire_all()
    remaining = db.session.execute(sa.select(AuditEvent)).scalars().all()
    # Only the retention runs' own rows are left.
    assert {e.action for e in remaining} == {"retention_run"}


def sms_member(sms_member_id):
    return db.session.get(SmsMember, sms_member_id, populate_existing=True)


def test_text_members_not_seen_for_a_year_are_wiped_and_revoked(client, areas):
    idle = sms.enrol(None, "07700 900111", ["hackney"], "en")
    active = sms.enrol(None, "07700 900222", ["hackney"], "en")
    joined = idle.created_at.replace(tzinfo=utcnow().tzinfo)
    # A text in counts as being seen.
    assert sms.receive("07700 900222", "HELP", now=joined + 200 * DAY)
    service.run(now=joined + 365 * DAY - DAY)
    assert sms_member(idle.id).number_encrypted is not None
    due = service.run(now=joined + 365 * DAY + DAY)
    assert due["sms_members"] == [idle.id] and idle.member_id in due["members"]
    gone = sms_member(idle.id)
    assert gone.number_encrypted is None and gone.number_hash is None and gone.areas == []
    assert gone.wiped_at is not None and gone.member.revoked_at is not None
    assert sms.find_member(sms.normalise_number("07700 900111")) is None
    kept = sms_member(active.id)
    assert kept.number_encrypted is not None and kept.member.revoked_at is None
    # Wiped once: not chosen again.
    assert service.run(now=joined + 400 * DAY)["sms_members"] == []


def test_texts_go_after_30_days_but_queued_ones_stay(client, areas):
    member = sms.enrol(None, "07700 900111", ["hackney"], "en")
    sms.receive("07700 900111", "HELP")
    sent = db.session.execute(sa.select(SmsDelivery)).scalars().one()
    sent.status = "sent"
    waiting = sms.queue_reply(member, "still queued")
    db.session.commit()
    sent_id, waiting_id = sent.id, waiting.id
    made = sent.created_at.replace(tzinfo=utcnow().tzinfo)
    service.run(now=made + 30 * DAY - DAY)
    assert count(SmsDelivery) == 2
    assert service.run(now=made + 30 * DAY + DAY)["sms_texts"] == [sent_id]
    assert db.session.execute(sa.select(SmsDelivery.id)).scalars().all() == [waiting_id]


def test_decided_disputes_lose_statement_and_contact_after_90_days(client, areas, moderator):
    decided, _ = disputes.file_dispute("phone", "07700 900123", "Not me.", contact="a@b.example")
    still_open, _ = disputes.file_dispute("phone", "07700 900124", "Nor me.", contact="c@d.example")
    disputes.decide(moderator.staff, decided, "not_upheld", "It matches the reports.")
    decided_at = decided.decided_at.replace(tzinfo=utcnow().tzinfo)
    service.run(now=decided_at + 90 * DAY - DAY)
    assert db.session.get(Dispute, decided.id, populate_existing=True).contact_encrypted
    assert service.run(now=decided_at + 90 * DAY + DAY)["disputes"] == [decided.id]
    row = db.session.get(Dispute, decided.id, populate_existing=True)
    assert row.statement_encrypted == "" and row.contact_encrypted is None
    # The outcome and its audit row stay; staff see no statement any more.
    assert row.status == "not_upheld" and row.reason == "It matches the reports."
    assert db.session.execute(sa.select(AuditEvent).filter_by(
        action="dispute_not_upheld")).scalars().one().target_id == str(decided.id)
    detail = disputes.open_detail(moderator.staff, row)
    assert detail["statement"] is None and detail["contact"] is None
    # An undecided dispute is never purged, however old.
    assert service.run(now=decided_at + 3000 * DAY)["disputes"] == []
    kept = db.session.get(Dispute, still_open.id, populate_existing=True)
    assert kept.statement_encrypted and kept.contact_encrypted


# --- One audit row per run; dry runs change nothing ------------------------------------------

def test_each_real_run_writes_one_audit_row_with_counts(client, areas):
    report_id, _ = asks_support(client)
    later = at(report_id, 91)
    dry = service.run(now=later, dry_run=True)
    assert dry["contacts"] == [uuid.UUID(report_id)]
    assert report(report_id).contact_encrypted is not None and runs() == []
    service.run(now=later)
    (event,) = runs()
    assert event.details == {"contacts": 1, "cases": 0, "reports": 0, "alerts": 0,
                             "members": 0, "sms_members": 0, "sms_texts": 0, "disputes": 0,
                             "audit": 0}
    assert event.staff_id is None and event.target_id is None
    service.run(now=later)
    assert [e.details["contacts"] for e in runs()] == [1, 0]


def test_periods_are_configurable(app, client, areas):
    app.config["RETENTION_CONTACT_DAYS"] = 7
    report_id, _ = asks_support(client)
    assert service.run(now=at(report_id, 6))["contacts"] == []
    assert service.run(now=at(report_id, 8))["contacts"] == [uuid.UUID(report_id)]


def test_the_command_lists_then_removes(app, client, areas, runner):
    report_id, _ = asks_support(client)
    day = (received(report_id) + timedelta(days=731)).date().isoformat()
    result = runner.invoke(args=["retention", "run", "--dry-run", "--as-of", day])
    assert result.exit_code == 0, result.output
    assert "reports: 1 would go" in result.output and report_id in result.output
    assert "Dry run: nothing was changed." in result.output
    assert CONTACT["name"] not in result.output
    assert report(report_id) is not None and runs() == []
    result = runner.invoke(args=["retention", "run", "--as-of", day])
    assert result.exit_code == 0, result.output
    assert "reports: 1 gone" in result.output
    db.session.expire_all()
    assert report(report_id) is None and len(runs()) == 1
    assert runner.invoke(args=["retention", "run", "--as-of", "tomorrow"]).exit_code != 0


def test_on_the_demo_data_a_dry_run_lists_and_a_run_removes(app, runner):
    """As the issue asks: the demo database, the clock moved three years on."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    reports = count(Report)
    assert reports and count(Alert)
    before = statistics()
    day = (utcnow() + timedelta(days=3 * 365)).date().isoformat()
    dry = runner.invoke(args=["retention", "run", "--dry-run", "--as-of", day])
    assert dry.exit_code == 0, dry.output
    assert f"reports: {reports} would go" in dry.output
    assert "alerts: " in dry.output and "Dry run: nothing was changed." in dry.output
    assert count(Report) == reports and runs() == []
    done = runner.invoke(args=["retention", "run", "--as-of", day])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert count(Report) == 0
    assert db.session.execute(sa.select(sa.func.count(Identifier.id))
                              .where(Identifier.report_id.is_not(None))).scalar_one() == 0
    assert all(a.expires_at is not None for a in db.session.execute(
        sa.select(Alert).where(Alert.published_at.is_not(None))).scalars())
    (event,) = runs()
    assert event.details["reports"] == reports
    # What is left counts the same.
    assert statistics()["total"] == before["total"]
