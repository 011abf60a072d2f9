"""Data migrations on a database that already holds reports: stored consent moves to the
nearest new level and never widens, on SQLite and PostgreSQL."""
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server.extensions import db

from factories import app_on, insert_report_as_0001_made_it


def _consents():
    return sorted(db.session.execute(sa.text("SELECT consent_police FROM report")).scalars())


def test_police_consent_migrates_to_the_nearest_level_without_widening(empty_database):
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0001")
        for consent in ("none", "offender_only", "with_contact"):
            insert_report_as_0001_made_it(consent)
        upgrade(revision="0002")
        assert _consents() == ["anonymous_intelligence", "full_report", "none"]
        # Down again: every new level maps to an old one that carries no more.
        db.session.execute(sa.text(
            "UPDATE report SET consent_police = 'contact_via_project' "
            "WHERE consent_police = 'anonymous_intelligence'"))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0001")
        assert _consents() == ["none", "offender_only", "with_contact"]
        db.session.remove()
        db.engine.dispose()


def test_alerts_published_before_0010_count_as_changed_when_published(empty_database):
    """0010: a published alert's changed_at is its published_at (a device's next `since`
    sync does not fetch it again); a draft's stays empty; its identifiers are masked as the
    feed reads it (shown_identifiers stays empty)."""
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0009")
        alert = sa.table("alert", sa.column("id", sa.Uuid), sa.column("title"),
                         sa.column("summary"), sa.column("severity"),
                         sa.column("incident_types", sa.JSON), sa.column("identifiers", sa.JSON),
                         sa.column("created_at", sa.DateTime(timezone=True)),
                         sa.column("published_at", sa.DateTime(timezone=True)))
        published, draft = uuid.uuid4(), uuid.uuid4()
        when = sa.func.now()
        for alert_id, published_at in ((published, when), (draft, None)):
            db.session.execute(alert.insert().values(
                id=alert_id, title="t", summary="s", severity="risky", incident_types=[],
                identifiers=[{"kind": "phone", "value": "07700 900123", "display": "masked"}],
                created_at=when, published_at=published_at))
        db.session.commit()
        upgrade(revision="0010")
        # SQLite hands the id back as 32 hex digits, PostgreSQL as a UUID.
        rows = {uuid.UUID(str(row.id)): row for row in db.session.execute(sa.text(
            "SELECT id, published_at, changed_at, shown_identifiers FROM alert"))}
        db.session.remove()
        assert rows[published].changed_at == rows[published].published_at is not None
        assert rows[draft].changed_at is None
        assert all(row.shown_identifiers is None for row in rows.values())
        downgrade(revision="0009")
        db.session.remove()
        db.engine.dispose()


def test_the_statistics_summary_is_backfilled_exactly(empty_database):
    from server.stats import service as stats
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0010")
        ids = [insert_report_as_0001_made_it("none") for _ in range(6)]
        for n, report_id in enumerate(ids):
            db.session.execute(sa.text(
                "UPDATE report SET occurred_on = :day, incident_types = :types, "
                "perpetrator = :perpetrator, targeted_because = :targeted WHERE id = :id"),
                {"day": date(2025, 1 + n % 3, 1 + 9 * (n % 3)),
                 "types": ['["theft"]', '["robbery", "doxxing"]', '["outing_or_blackmail"]'][n % 3],
                 "perpetrator": [None, "client"][n % 2],
                 "targeted": [None, '["sex_work"]', '[]'][n % 3],
                 "id": report_id if db.engine.dialect.name == "postgresql" else report_id.hex})
        db.session.execute(sa.text("UPDATE report SET linked_to_id = :root WHERE id = :id"), {
            "root": ids[0] if db.engine.dialect.name == "postgresql" else ids[0].hex,
            "id": ids[1] if db.engine.dialect.name == "postgresql" else ids[1].hex})
        db.session.execute(sa.text(
            "INSERT INTO report_tally (month, area_id, incident_types, perpetrator) "
            "VALUES (:month, 1, '[\"theft\", \"blackmail\"]', 'landlord')"),
            {"month": date(2024, 12, 1)})
        db.session.commit()
        upgrade()
        assert stats.recount()["total"] == 6
        for dates in ((None, None), (date(2025, 1, 5), date(2025, 2, 28)),
                      (date(2024, 12, 15), date(2025, 1, 1))):
            assert stats._counts(*dates) == stats.recount(*dates)
        db.session.remove()
        downgrade(revision="0010")
        db.session.remove()
        db.engine.dispose()


def test_alert_numbers_keep_the_numbers_texts_gave(empty_database):
    """0013: an alert that had a text number (sms_alert) keeps it as its alert number; the
    other published alerts are numbered after the highest, in publication order; drafts
    get none. Down again, sms_alert holds every number."""
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0012")
        alert = sa.table("alert", sa.column("id", sa.Uuid), sa.column("title"),
                         sa.column("summary"), sa.column("severity"),
                         sa.column("incident_types", sa.JSON), sa.column("identifiers", sa.JSON),
                         sa.column("created_at", sa.DateTime(timezone=True)),
                         sa.column("published_at", sa.DateTime(timezone=True)))
        texted, early, late, draft = (uuid.uuid4() for _ in range(4))
        for alert_id, published_at in ((texted, datetime(2026, 3, 1, tzinfo=UTC)),
                                       (late, datetime(2026, 2, 1, tzinfo=UTC)),
                                       (early, datetime(2026, 1, 1, tzinfo=UTC)), (draft, None)):
            db.session.execute(alert.insert().values(
                id=alert_id, title="t", summary="s", severity="risky", incident_types=[],
                identifiers=[], created_at=datetime(2026, 1, 1, tzinfo=UTC),
                published_at=published_at))
        sms_alert = sa.table("sms_alert", sa.column("id", sa.Integer), sa.column("alert_id", sa.Uuid))
        db.session.execute(sms_alert.insert().values(id=7, alert_id=texted))
        db.session.execute(sa.text(
            "INSERT INTO region (id, slug, name) VALUES (1, 'r', 'R')"))
        db.session.execute(sa.text(
            "INSERT INTO area (id, slug, name, region_id) VALUES (1, 'a', 'A', 1)"))
        alert_area = sa.table("alert_area", sa.column("alert_id", sa.Uuid),
                              sa.column("area_id", sa.Integer))
        db.session.execute(alert_area.insert().values(alert_id=texted, area_id=1))
        db.session.commit()
        upgrade(revision="0013")
        # Nothing that refers to an alert is lost on the way (a table copy would lose it).
        assert db.session.execute(sa.text("SELECT COUNT(*) FROM alert_area")).scalar() == 1
        numbers = {uuid.UUID(str(row.id)): row.number for row in db.session.execute(
            sa.text("SELECT id, number FROM alert"))}
        db.session.remove()
        assert numbers == {texted: 7, early: 8, late: 9, draft: None}
        downgrade(revision="0012")
        kept = {uuid.UUID(str(row.alert_id)): row.id for row in db.session.execute(
            sa.text("SELECT id, alert_id FROM sms_alert"))}
        db.session.remove()
        assert kept == {texted: 7, early: 8, late: 9}
        db.session.remove()
        db.engine.dispose()


def _a_value(column, parents, checks):
    """A value `column` accepts: its parent row's key, the first value a CHECK allows, or
    one of its type (as the database reflects it)."""
    for fk in column.foreign_keys:
        parent = parents.get(fk.column.table.name)
        # identifier belongs to a report or an alert, not both (ck_identifier_one_owner).
        if parent is None or (column.table.name, column.name) == ("identifier", "alert_id"):
            return None
        return parent[fk.column.name]
    for text in checks:
        allowed = re.search(rf"\b{column.name}\b[^']*'([^']*)'", text)
        if allowed:
            return allowed.group(1)
    kind = column.type
    if isinstance(kind, sa.Uuid) or str(kind) == "CHAR(32)":  # SQLite's Uuid
        return uuid.uuid4() if isinstance(kind, sa.Uuid) else uuid.uuid4().hex
    for types, value in ((sa.Boolean, False), (sa.Integer, 1), ((sa.Float, sa.Numeric), 1.5),
                         (sa.DateTime, datetime(2026, 1, 1, tzinfo=UTC)),
                         (sa.Date, date(2026, 1, 1)), (sa.JSON, []), (sa.LargeBinary, b"x")):
        if isinstance(kind, types):
            return value
    return "x"


def test_no_row_is_lost_on_the_way_from_the_first_revision(empty_database):
    """A row in every table of 0001, each child pointing at its parent's row; after every
    migration to the head, every table that still exists holds its row. On SQLite most
    alterations copy the table and drop the old one, and with foreign keys on that DROP
    deleted the children (0002 took every identifier and alert_report row, 0003 every
    staff session); migrations now run with them off and checked before the commit."""
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0001")
        tables = sa.MetaData()
        tables.reflect(db.engine)
        inspector = sa.inspect(db.engine)
        parents = {}
        for table in tables.sorted_tables:
            if table.name == "alembic_version":
                continue
            checks = [c["sqltext"] for c in inspector.get_check_constraints(table.name)]
            row = {column.name: _a_value(column, parents, checks) for column in table.columns}
            db.session.execute(table.insert().values(**row))
            parents[table.name] = row
        db.session.commit()
        before = {name: db.session.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar()
                  for name in parents}
        assert set(before.values()) == {1}
        db.session.remove()
        upgrade()
        still = set(sa.inspect(db.engine).get_table_names())
        after = {name: db.session.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar()
                 for name in parents if name in still}
        db.session.remove()
        db.engine.dispose()
        assert after == {name: 1 for name in parents if name in still}
        assert {"identifier", "alert_report", "staff_session", "report"} <= set(after)


def _children():
    """Every row that hangs off a report, as comparable tuples."""
    def rows(sql):
        return sorted(tuple(str(v) for v in row) for row in db.session.execute(sa.text(sql)))
    return {
        "reports": rows("SELECT id, receipt_hash, linked_to_id, content_hash FROM report"),
        "identifiers": rows("SELECT report_id, kind, value FROM identifier"),
        "cases": rows("SELECT report_id, status FROM support_case"),
        "alert links": rows("SELECT alert_id, report_id FROM alert_report"),
        "count changes": rows("SELECT grain, period, area_id, total FROM report_count_change"),
    }


SAME_RECEIPT = sa.text("UPDATE report SET receipt_hash = "
                       "(SELECT receipt_hash FROM report WHERE id = :a) WHERE id = :b")


def test_receipt_hash_is_no_longer_unique_and_no_child_row_is_lost(empty_database):
    """0014 drops report.receipt_hash's unique constraint. SQLite can only rebuild the
    table for that: every identifier, case, alert link and report link must survive it
    (none may cascade away with the old table), both ways, and the rebuilt table must
    keep its foreign keys, its triggers and exactly-once by id."""
    from server.areas import service as areas
    from server.reports import service

    from factories import full_report, new_report
    app = app_on(empty_database)
    sqlite = empty_database.startswith("sqlite")
    with app.test_request_context("/"):
        upgrade(revision="0013")
        areas.import_areas(areas.parse_areas("slug,name,region\nhackney,Hackney,London\n", "csv"))
        items = [full_report() for _ in range(3)] + [new_report() for _ in range(2)]
        assert [r["result"] for r in service.sync_reports(items)] == ["created"] * 5
        ids = [item["id"] if not sqlite else uuid.UUID(item["id"]).hex for item in items]
        db.session.execute(sa.text("UPDATE report SET linked_to_id = :root WHERE id = :id"),
                           {"root": ids[0], "id": ids[1]})
        alert_id = uuid.uuid4()
        db.session.execute(sa.text(
            "INSERT INTO alert (id, title, summary, severity, incident_types, identifiers, "
            "created_at) VALUES (:id, 't', 's', 'risky', '[]', '[]', CURRENT_TIMESTAMP)"),
            {"id": alert_id.hex if sqlite else alert_id})
        db.session.execute(sa.text(
            "INSERT INTO alert_report (alert_id, report_id) VALUES (:alert, :report)"),
            {"alert": alert_id.hex if sqlite else alert_id, "report": ids[0]})
        db.session.commit()
        before = _children()
        assert all(before.values()) and len(before["identifiers"]) > 5
        db.session.remove()

        upgrade(revision="0014")
        assert _children() == before
        if sqlite:
            assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        # No longer unique: another row may carry the same receipt hash.
        db.session.execute(SAME_RECEIPT, {"a": ids[2], "b": ids[3]})
        db.session.rollback()
        # Exactly-once still rests on the id: a resend is a duplicate, new content under a
        # taken id a conflict, and nothing doubles.
        again = service.sync_reports(items + [dict(items[4], description="Other")])
        assert [r["result"] for r in again] == ["duplicate"] * 5 + ["conflict"]
        assert db.session.execute(sa.text("SELECT COUNT(*) FROM report")).scalar() == 5
        # The triggers came back with the table (the summary sees a new report), and the
        # children's foreign keys point at the new table: deleting a report cascades.
        changes, twin = len(before["count changes"]), uuid.uuid4()
        assert service.sync_reports([new_report(id=str(twin))])[0]["result"] == "created"
        assert len(_children()["count changes"]) == changes + 1
        db.session.execute(sa.text("DELETE FROM report WHERE id = :id"),
                           {"id": twin.hex if sqlite else twin})
        db.session.commit()
        after = _children()
        assert len(after.pop("count changes")) == changes + 2  # +1, then -1
        assert after == {k: v for k, v in before.items() if k != "count changes"}
        before = _children()
        db.session.remove()

        downgrade(revision="0013")
        assert _children() == before
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(SAME_RECEIPT, {"a": ids[2], "b": ids[3]})
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_the_pack_order_index_comes_and_goes_with_0016(empty_database):
    """0016 indexes the police pack's order with its shareable filter; down again it is
    gone and the reports are untouched."""
    app = app_on(empty_database)
    with app.app_context():
        upgrade(revision="0015")
        report_id = insert_report_as_0001_made_it("full_report")

        def pack_index():
            return {index["name"]: index["column_names"]
                    for index in sa.inspect(db.engine).get_indexes("report")
                    }.get("ix_report_pack_order")
        assert pack_index() is None
        upgrade(revision="0016")
        assert pack_index() == ["occurred_on", "received_at", "id", "consent_police"]
        db.session.remove()
        downgrade(revision="0015")
        assert pack_index() is None
        ids = db.session.execute(sa.text("SELECT id FROM report")).scalars().all()
        assert [uuid.UUID(str(value)) for value in ids] == [report_id]
        db.session.remove()
        db.engine.dispose()


# --- What `flask db upgrade` (make run) prints --------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = sorted((ROOT / "server" / "migrations" / "versions").glob("[0-9]*.py"))


def flask_db(url, instance, *args):
    """The real command, as `make run` gives it: -> (exit status, everything it printed)."""
    env = dict(os.environ, FLASK_APP="server", DATABASE_URL=url, REDFLAG_INSTANCE=str(instance))
    done = subprocess.run([Path(sys.executable).parent / "flask", "db", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_upgrade_prints_one_short_line_per_migration_and_verbose_all(empty_database, tmp_path):
    status, output = flask_db(empty_database, tmp_path, "upgrade")
    assert status == 0, output
    steps = [line for line in output.splitlines() if "Running upgrade" in line]
    assert len(steps) == len(VERSIONS), output
    # Besides the steps, only Alembic's two lines about the engine.
    assert len(output.splitlines()) == len(VERSIONS) + 2, output
    assert all(len(line) <= 100 for line in steps), output
    assert "Running upgrade 0012 -> 0013 (alert number)" in output
    assert "Running upgrade 0003 -> 0004_sms (text members)" in output
    # -x verbose=1 (make run VERBOSE=1): Alembic's own line, the migration's first paragraph.
    status, output = flask_db(empty_database, tmp_path, "downgrade", "0015", "-x", "verbose=1")
    assert status == 0, output
    assert ("Running downgrade 0016 -> 0015, The police pack's order, indexed: (occurred_on, "
            "received_at, id), then consent_police.") in output
    status, output = flask_db(empty_database, tmp_path, "downgrade", "0014")
    assert status == 0, output
    assert output.splitlines()[-1].endswith("Running downgrade 0015 -> 0014 (report incident type)")


def test_a_failing_migration_still_says_why(empty_database, tmp_path):
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:  # 0001 creates this table first
        conn.execute(sa.text("CREATE TABLE region (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    status, output = flask_db(empty_database, tmp_path, "upgrade")
    assert status != 0
    assert "Running upgrade  -> 0001 (initial)" in output
    assert "Traceback" in output and "already exists" in output, output
