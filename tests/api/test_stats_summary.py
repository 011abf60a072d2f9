"""The maintained statistics summary (report_count, kept by triggers on report and
report_tally) always equals the full grouped recount, whatever changed the reports: the
single POST, a sync batch, status changes, edits by the ORM and by bulk statements, links
made and undone, a deletion that clears links by ON DELETE SET NULL, and retention."""
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.areas.models import Area
from server.clock import utcnow
from server.extensions import db
from server.moderation import decisions
from server.reports.models import Report
from server.retention import service as retention
from server.stats import service
from server.stats.models import ReportTally, report_count, report_count_change

from factories import new_report, send_report

RANGES = [(None, None), (date(2025, 1, 15), date(2025, 3, 10)), (date(2025, 2, 1), date(2025, 2, 28)),
          (date(2025, 2, 3), date(2025, 2, 5)), (None, date(2025, 12, 31)), (date(2026, 1, 1), None),
          (date(2024, 12, 31), date(2025, 1, 1)), (date(2025, 1, 1), date(2025, 1, 31)),
          (date(2024, 11, 20), None), (None, date(2025, 2, 14)), (date(2025, 3, 1), date(2025, 2, 1)),
          (date.min, date.max), (date(9999, 12, 2), None), (None, date(9999, 12, 31)),
          (date(2025, 1, 2), date(2025, 1, 31))]
KINDS = [(["robbery"], None, None), (["theft", "doxxing"], "client", ["sex_work"]),
         (["outing_or_blackmail"], "landlord", ["religion", "other"]),
         (["image_based_abuse", "blackmail"], "police_officer", []),
         (["other"], "manager_or_venue_staff", ["disability"]), (["rape", "drugging"], None, None)]
DAYS = [date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 3),
        date(2025, 2, 28), date(2025, 3, 10), date(2025, 12, 31), date(2026, 1, 2)]
AREAS = ("hackney", "camden", "islington")


def report_body(n):
    types, perpetrator, targeted = KINDS[n % len(KINDS)]
    body = new_report(occurred_on=DAYS[n % len(DAYS)].isoformat(), area=AREAS[n % 3],
                      incident_types=types)
    if perpetrator:
        body["perpetrator"] = perpetrator
    if targeted is not None:
        body["targeted_because"] = targeted
    return body


def assert_summary_is_exact():
    for date_from, date_to in RANGES:
        assert service._counts(date_from, date_to) == service.recount(date_from, date_to), (
            date_from, date_to)
    # Everything was folded in: nothing is left waiting.
    assert db.session.execute(sa.select(sa.func.count()).select_from(
        report_count_change)).scalar_one() == 0


def get(report_id):
    return db.session.get(Report, uuid.UUID(str(report_id)), populate_existing=True)


def test_the_summary_equals_the_recount_through_every_kind_of_change(client, areas, moderator):
    ids = [send_report(client, report_body(n))[0] for n in range(14)]
    response = client.post("/api/v1/sync", json={"reports": [report_body(n) for n in range(14, 30)]})
    assert response.status_code == 200
    assert service.recount()["total"] == 30
    assert_summary_is_exact()

    # Status changes move no count; a rejected report still counts, as in the recount.
    staff = moderator.staff
    decisions.start_review(staff, get(ids[0]))
    decisions.start_review(staff, get(ids[1]))
    decisions.reject(staff, get(ids[1]), "Not an incident")
    db.session.execute(sa.update(Report).where(Report.id == uuid.UUID(ids[2]))
                       .values(status="published"))
    db.session.commit()
    assert_summary_is_exact()

    # Edits of what is counted, by the ORM and by a bulk statement.
    report = get(ids[3])
    report.occurred_on, report.area_id = date(2025, 2, 4), get(ids[4]).area_id
    report.incident_types = ["threats", "outing"]
    report.perpetrator, report.targeted_because = "other", ["sexual_orientation"]
    db.session.commit()
    db.session.execute(sa.update(Report).where(Report.id.in_([uuid.UUID(i) for i in ids[5:8]]))
                       .values(occurred_on=date(2025, 1, 31), perpetrator=None,
                               targeted_because=None))
    db.session.commit()
    assert_summary_is_exact()

    # Links: the same incident counts once; undone, it counts again.
    decisions.link(staff, get(ids[9]), get(ids[8]))
    decisions.link(staff, get(ids[10]), get(ids[8]))
    db.session.commit()
    assert_summary_is_exact()
    decisions.unlink(staff, get(ids[8]))
    db.session.commit()
    assert_summary_is_exact()

    # A first report deleted outright: its followers' links are cleared by the foreign
    # key (ON DELETE SET NULL), which the summary sees too.
    decisions.link(staff, get(ids[11]), get(ids[12]))
    db.session.commit()
    root = get(ids[12]).linked_to_id or get(ids[11]).linked_to_id
    db.session.execute(sa.delete(Report).where(Report.id == root))
    db.session.commit()
    assert_summary_is_exact()

    # Retention: old reports become tallies (an incident's first report hands over to
    # the next when it goes alone), and a tally can go too.
    old = db.session.execute(sa.select(Report.id).order_by(Report.received_at)
                             .limit(12)).scalars().all()
    db.session.execute(sa.update(Report).where(Report.id.in_(old))
                       .values(received_at=utcnow() - timedelta(days=800)))
    db.session.commit()
    retention.run()
    assert db.session.execute(sa.select(sa.func.count()).select_from(ReportTally)).scalar_one()
    assert_summary_is_exact()
    db.session.execute(sa.delete(ReportTally).where(
        ReportTally.id == db.session.execute(sa.select(sa.func.min(ReportTally.id))).scalar()))
    area_id = db.session.execute(sa.select(Area.id)).scalars().first()
    db.session.add(ReportTally(month=date(2025, 2, 1), area_id=area_id,
                               incident_types=["theft"], perpetrator="client"))
    db.session.commit()
    assert_summary_is_exact()
    # Summary rows left at zero by purged reports are dropped by retention, unseen.
    retention.run()
    assert db.session.execute(sa.select(sa.func.min(report_count.c.total))).scalar() > 0
    assert_summary_is_exact()


def test_changes_wait_in_the_change_table_until_read(client, areas):
    send_report(client, report_body(1))
    pending = db.session.execute(sa.select(sa.func.count()).select_from(
        report_count_change)).scalar_one()
    assert pending == 1
    assert service.statistics()["total"] == "<5"
    assert_summary_is_exact()
    assert db.session.execute(sa.select(report_count.c.grain, report_count.c.total)
                              .order_by(report_count.c.grain)).all() == [("d", 1), ("m", 1)]


@pytest.mark.postgresql_only  # SQLite's DELETE of every row frees the pages itself
def test_a_large_fold_frees_the_change_tables_pages(client, areas, monkeypatch):
    """Every read of the statistics scans report_count_change for anything to fold. After
    a fold of VACUUM_AFTER changes or more it is vacuumed, so the deleted changes' pages
    are freed (a vacuumed empty table keeps no pages); a smaller fold leaves them to
    autovacuum."""
    monkeypatch.setattr(service, "VACUUM_AFTER", 3)

    def pages():
        db.session.commit()  # VACUUM truncates only a table no transaction is reading
        return db.session.execute(sa.text(
            "SELECT pg_relation_size('report_count_change')")).scalar_one()
    for n in range(2):
        send_report(client, report_body(n))
    service.statistics()
    assert pages() > 0  # two changes folded: below the mark, their pages stay
    for n in range(2, 5):
        send_report(client, report_body(n))
    service.statistics()
    assert pages() == 0
    assert_summary_is_exact()


@pytest.mark.postgresql_only  # SQLite has only row triggers: one change row per report
def test_a_batch_is_counted_once_per_statement(client, areas):
    """On PostgreSQL a sync's COPY appends one change row per (day, area, perpetrator)
    of its reports, summed from the statement's new rows, not one per report."""
    bodies = [report_body(n) for n in range(48)]
    response = client.post("/api/v1/sync", json={"reports": bodies})
    assert [r["result"] for r in response.get_json()["results"]] == ["created"] * 48
    groups = {(body["occurred_on"], body["area"], body.get("perpetrator")) for body in bodies}
    assert 1 < len(groups) < 48
    assert db.session.execute(sa.select(sa.func.count()).select_from(
        report_count_change)).scalar_one() == len(groups)
    assert service.recount()["total"] == 48
    assert_summary_is_exact()
