"""The queue's incident-type filter reads report_incident_type (one row per type of each
report, kept by triggers on report). Whatever changes the reports (the single POST, a
sync batch, edits by the ORM and by bulk statements, a deletion, retention), that table
holds exactly the types of every report, and the filter gives, page by page in both
directions, exactly the reports the old definition gives (the JSON text holding the type
in quotes; on PostgreSQL, jsonb containment)."""
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from server.areas.models import Area
from server.clock import utcnow
from server.extensions import db
from server.moderation import reading
from server.reports.models import INCIDENT_TYPES, Report, report_incident_type
from server.retention import service as retention

from factories import app_on, insert_report_as_0001_made_it, new_report, send_report

KINDS = [["robbery"], ["theft", "doxxing"], ["outing_or_blackmail"],
         ["image_based_abuse", "blackmail", "theft"], ["other"], ["rape", "drugging"]]
AREAS = ("hackney", "camden", "islington")
STATUSES = ("received", "in_review", "published", "not_published")
# Filters to compare: (incident types, areas, statuses, identifier).
FILTERS = [((kind,), (), (), None) for kind in INCIDENT_TYPES] + [
    (("theft", "robbery"), (), (), None), (("theft",), ("camden",), (), None),
    (("theft", "blackmail"), ("hackney", "camden"), ("received", "published"), None),
    (("drugging",), (), ("received",), None), (("sexual_assault",), ("hackney",), (), None),
    (("theft",), (), (), ("phone", "07700 900123")),
    (tuple(INCIDENT_TYPES), tuple(AREAS), STATUSES, None),  # past FAN_OUT: one read
]


def body(n):
    return new_report(incident_types=KINDS[n % len(KINDS)], area=AREAS[n % 3],
                      offender={"phones": ["07700 900123" if n % 2 else "07700 900456"]})


def old_ids(incident_types, areas, statuses, identifier):
    """The filter as it was before report_incident_type, newest first."""
    if db.engine.dialect.name == "postgresql":
        types = db.cast(Report.incident_types, JSONB)
        has_type = db.or_(*(types.contains([kind]) for kind in incident_types))
    else:
        text = db.cast(Report.incident_types, db.Text)
        has_type = db.or_(*(text.like('%"' + kind.replace("_", "\\_") + '"%', escape="\\")
                            for kind in incident_types))
    query = sa.select(Report.id).join(Area).where(has_type)
    if areas:
        query = query.where(Area.slug.in_(areas))
    if statuses:
        query = query.where(Report.status.in_(statuses))
    if identifier:
        query = query.where(Report.id.in_(reading.reports_carrying(*identifier)))
    return db.session.execute(
        query.order_by(Report.received_at.desc(), Report.id.desc())).scalars().all()


def walk(incident_types, areas, statuses, identifier, limit=3):
    """Every page of the queue by `after`, then back by `before` from the last one."""
    pages, after = [], None
    for _ in range(1000):
        reports, older, _newer = reading.report_queue(
            areas, incident_types, statuses, limit=limit, after=after, identifier=identifier)
        pages.append([r.id for r in reports])
        if older is None:
            break
        after = older
    else:
        raise AssertionError("the pages never end")
    forwards = [report_id for page in pages for report_id in page]
    # Back from the oldest page by `before`: the same pages, newest first.
    back, before = [], reading.queue_key(db.session.get(Report, pages[-1][0])) if pages[-1] else None
    for _ in range(1000):
        if before is None:
            break
        reports, _older, newer = reading.report_queue(
            areas, incident_types, statuses, limit=limit, before=before, identifier=identifier)
        back = [r.id for r in reports] + back
        before = newer
    else:
        raise AssertionError("the pages never end")
    if pages[-1]:
        assert back + pages[-1] == forwards
    return forwards


def assert_filter_is_exact():
    expected = {(report_id, kind) for report_id, kinds in db.session.execute(
        sa.select(Report.id, Report.incident_types)) for kind in set(kinds)}
    stored = db.session.execute(sa.select(report_incident_type.c.report_id,
                                          report_incident_type.c.incident_type)).all()
    assert len(stored) == len(expected) and set(stored) == expected
    assert db.session.execute(sa.select(sa.func.count()).select_from(report_incident_type).join(
        Report, sa.and_(Report.id == report_incident_type.c.report_id,
                        Report.received_at == report_incident_type.c.received_at))
    ).scalar_one() == len(expected)
    for incident_types, areas, statuses, identifier in FILTERS:
        assert walk(incident_types, areas, statuses, identifier) == old_ids(
            incident_types, areas, statuses, identifier), (incident_types, areas, statuses)


def test_the_type_filter_equals_the_old_definition_through_every_change(client, areas):
    ids = [uuid.UUID(send_report(client, body(n))[0]) for n in range(14)]
    response = client.post("/api/v1/sync", json={"reports": [body(n) for n in range(14, 26)]})
    assert response.status_code == 200
    db.session.execute(sa.update(Report).where(Report.id.in_(ids[::3])).values(status="published"))
    db.session.execute(sa.update(Report).where(Report.id.in_(ids[1::4]))
                       .values(status="received"))
    db.session.commit()
    assert_filter_is_exact()

    # Edits of the types, by the ORM (a repeated type, an empty list) and in bulk; an
    # edit of something else leaves the rows alone.
    report = db.session.get(Report, ids[0])
    report.incident_types = ["threats", "threats", "drugging"]
    db.session.get(Report, ids[1]).incident_types = []
    db.session.get(Report, ids[2]).description = "Edited."
    db.session.commit()
    db.session.execute(sa.update(Report).where(Report.id.in_(ids[3:7]))
                       .values(incident_types=["sexual_assault", "robbery"]))
    # The same moment for several reports: the id breaks the tie on every page.
    db.session.execute(sa.update(Report).where(Report.id.in_(ids[7:12]))
                       .values(received_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    assert_filter_is_exact()

    # Deleted outright, and by retention.
    db.session.execute(sa.delete(Report).where(Report.id == ids[13]))
    db.session.commit()
    old = db.session.execute(sa.select(Report.id).order_by(Report.received_at)
                             .limit(8)).scalars().all()
    db.session.execute(sa.update(Report).where(Report.id.in_(old))
                       .values(received_at=utcnow() - timedelta(days=800)))
    db.session.commit()
    retention.run()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Report)).scalar_one() == 17
    assert_filter_is_exact()


def test_the_side_table_is_one_tree_in_the_queues_order(app):
    """Keyed (type, received_at, id) and nothing else (0018), so a new report's rows go at
    the end of its types' ranges: with a key or index led by the report id, each insert
    also went to a random page (its cost grew with the table: docs/benchmarks.md)."""
    inspector = sa.inspect(db.engine)
    assert inspector.get_pk_constraint("report_incident_type")["constrained_columns"] == [
        "incident_type", "received_at", "report_id"]
    assert inspector.get_indexes("report_incident_type") == []
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'report_incident_type'"
            ).scalar_one().rstrip().endswith("WITHOUT ROWID")


def test_the_api_filter_pages_by_type(client, areas, moderator):
    ids = [send_report(client, body(n))[0] for n in range(12)]
    seen, after = [], ""
    while True:
        page = moderator.get(f"/api/v1/staff/reports?incident_type=theft&limit=2{after}")
        assert page.status_code == 200, page.get_json()
        data = page.get_json()
        seen += [item["id"] for item in data["reports"]]
        if not data.get("next"):
            break
        after = f"&after={data['next']}"
    theft = [i for n, i in enumerate(ids) if "theft" in KINDS[n % len(KINDS)]]
    assert seen == theft[::-1]


def test_the_side_table_is_backfilled_exactly_and_kept_after_upgrade(empty_database):
    from flask_migrate import downgrade, upgrade


    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0014")
        ids = [insert_report_as_0001_made_it("none") for _ in range(6)]
        postgresql = db.engine.dialect.name == "postgresql"
        for n, report_id in enumerate(ids):
            # received_at as the application writes it (func.now() is another text on SQLite).
            db.session.execute(sa.text(
                "UPDATE report SET incident_types = :types, received_at = :at WHERE id = :id"
            ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True))), {
                "types": ['["theft"]', '["robbery", "doxxing", "robbery"]', '[]'][n % 3],
                "at": utcnow() - timedelta(minutes=n % 4),
                "id": report_id if postgresql else report_id.hex})
        db.session.commit()
        upgrade()
        assert set(db.session.execute(sa.select(report_incident_type.c.report_id,
                                                report_incident_type.c.incident_type))) == {
            (report_id, kind) for n, report_id in enumerate(ids)
            for kind in [["theft"], ["robbery", "doxxing"], []][n % 3]}
        assert_filter_is_exact()
        # The triggers are in place after the migration.
        db.session.execute(sa.update(Report).where(Report.id == ids[2])
                           .values(incident_types=["drugging"]))
        db.session.execute(sa.delete(Report).where(Report.id == ids[0]))
        db.session.commit()
        assert_filter_is_exact()
        db.session.remove()
        downgrade(revision="0014")
        db.session.remove()
        db.engine.dispose()
