"""Police packs: only reports whose reporter agreed, each with exactly what that consent
allows, in the service rows, the CSV and the printable page; moderators only; audited."""
import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest

from server.accounts.models import AuditEvent
from server.extensions import db
from server.pages import t
from server.police import service
from server.reports.models import Report

from factories import CONTACT, StaffClient, assert_print_page
from factories import send_full_report as send

CSV_URL = "/api/v1/staff/police-pack.csv"
PAGE_URL = "/staff/print/police-pack"
# Exactly what each level carries, spelled out here so that a field added to the service
# by mistake fails this test.
ANONYMOUS = {
    "reference", "source", "police_consent", "handling", "hate_crime", "targeted_because",
    "incident_types", "perpetrator", "area", "time_window", "linked_references",
    "offender_gender", "offender_age_range", "offender_height", "offender_build",
    "offender_skin", "offender_hair", "offender_accent", "offender_marks", "offender_names",
    "offender_phones", "offender_emails", "offender_handles", "offender_vehicle_make",
    "offender_vehicle_model", "offender_vehicle_colour", "offender_vehicle_plate",
    "offender_contact_method",
}
EXPECTED = {
    "anonymous_intelligence": ANONYMOUS,
    "contact_via_project": ANONYMOUS,
    "full_report": ANONYMOUS | {"occurred_on", "part_of_day", "description", "reporter_name",
                                "reporter_phone", "reporter_email", "reporter_note"},
}
LEVELS = ("none", "anonymous_intelligence", "contact_via_project", "full_report")


@pytest.fixture
def three_reports(client, areas):
    """The same full report once per police consent level (four of them)."""
    return {level: send(client, description=f"Description with consent {level}.",
                        consent={"publish": True, "police": level})
            for level in LEVELS}


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="police-pack-')
    assert response.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


# --- Exactly what each consent allows --------------------------------------------------------

def test_each_consent_level_gives_exactly_its_fields(three_reports):
    rows = {row["police_consent"]: row for row in service.pack_rows()}
    assert set(rows) == set(EXPECTED)  # "none": never in a pack
    sent = three_reports["full_report"]
    occurred = date.fromisoformat(sent["occurred_on"])
    monday = occurred - timedelta(days=occurred.weekday())
    for level, row in rows.items():
        assert set(row) == EXPECTED[level], level
        assert row["source"] == "Redflag support project"
        assert row["handling"] == "intelligence_only"
        assert row["hate_crime"] == "yes"
        assert row["targeted_because"] == ["sex_work", "gender_identity"]
        assert row["perpetrator"] == "client"
        assert row["time_window"] == f"{monday}/{monday + timedelta(days=6)}"
        assert row["area"] == "Hackney"
        assert row["incident_types"] == ["robbery", "threats", "condom_removal"]
        assert row["offender_phones"] == ["07700 900123", "+44 7700 900456"]
        assert row["offender_vehicle_plate"] == "AB12 CDE"
        assert row["offender_contact_method"] == "online_ad"
        assert row["offender_marks"] == "Tattoo of a swallow on his left hand"
        assert row["linked_references"] == []
    full = rows["full_report"]
    assert full["description"] == "Description with consent full_report."
    assert full["occurred_on"] == sent["occurred_on"] and full["part_of_day"] == "night"
    assert {name: full[f"reporter_{name}"] for name in service.CONTACT_PARTS} == CONTACT
    # Below a full report: nothing of the reporter, not even their own words or the day.
    for level in ("anonymous_intelligence", "contact_via_project"):
        # The week's window (asserted above) may start or end on that day: it says no more.
        text = repr({key: value for key, value in rows[level].items() if key != "time_window"})
        assert "Description with consent" not in text
        assert sent["occurred_on"] not in text
        assert CONTACT["name"] not in text and CONTACT["phone"] not in text
    # The report id (made on the reporter's phone) is not given away.
    ids = {three_reports[level]["id"] for level in three_reports}
    assert not any(str(value) in ids for row in rows.values() for value in row.values())


@pytest.mark.parametrize("batch", [1, 1000], ids=["a batch per report", "one batch"])
def test_linked_reports_are_named_by_reference_only_when_shareable(three_reports, batch,
                                                                   monkeypatch):
    # Read a batch at a time: a report's group is found even when its other members
    # are in other batches.
    monkeypatch.setattr(service, "BATCH", batch)
    reports = {level: db.session.get(Report, uuid.UUID(three_reports[level]["id"]))
               for level in LEVELS}
    root = reports["anonymous_intelligence"]
    for level in ("none", "contact_via_project", "full_report"):
        reports[level].linked_to_id = root.id
    db.session.commit()
    rows = {row["police_consent"]: row for row in service.pack_rows()}
    assert rows["anonymous_intelligence"]["linked_references"] == [
        service.reference(reports["contact_via_project"].id),
        service.reference(reports["full_report"].id)]
    # A report whose reporter said "none" is never mentioned, not even as a reference.
    none_ref = service.reference(reports["none"].id)
    assert none_ref not in repr(rows)
    assert rows["full_report"]["linked_references"] == [
        service.reference(root.id), service.reference(reports["contact_via_project"].id)]


def test_moderator_chooses_the_handling_note(app, moderator, three_reports):
    report_id = three_reports["contact_via_project"]["id"]
    url = f"/api/v1/staff/reports/{report_id}/police-handling"
    outreach = StaffClient(app, "van", "outreach")
    assert outreach.client.put(url, json={"handling": "may_act_on"},
                               headers=outreach.csrf).status_code == 403
    mod = StaffClient(app, "mod2", "moderator")
    assert mod.client.put(url, json={"handling": "whatever"}, headers=mod.csrf).status_code == 422
    assert mod.client.put(url, json={"handling": "may_act_on"}).status_code in (400, 403)
    response = mod.client.put(url, json={"handling": "ask_project_before_action"},
                              headers=mod.csrf)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["police_handling"] == "ask_project_before_action"
    unknown = f"/api/v1/staff/reports/{uuid.uuid4()}/police-handling"
    assert mod.client.put(unknown, json={"handling": "may_act_on"},
                          headers=mod.csrf).status_code == 404
    rows = {row["police_consent"]: row for row in service.pack_rows()}
    assert rows["contact_via_project"]["handling"] == "ask_project_before_action"
    assert rows["full_report"]["handling"] == "intelligence_only"
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "Ask the project before any action based on this report." in html
    assert db.session.execute(db.select(AuditEvent).filter_by(
        action="police_handling_set", target_id=report_id)).scalar_one()


def test_legacy_consent_levels_are_taken_as_the_nearest_narrower_one(client, areas):
    """An outbox filled by an earlier app version still sends offender_only/with_contact:
    taken, stored as the new level, and a resend is still a duplicate."""
    old = send(client, consent={"publish": True, "police": "offender_only"})
    older = send(client, consent={"publish": True, "police": "with_contact"})
    assert client.post("/api/v1/reports", json=old).status_code == 200
    stored = {str(r.id): r.consent_police for r in db.session.execute(
        db.select(Report)).scalars()}
    assert stored == {old["id"]: "anonymous_intelligence", older["id"]: "full_report"}


def test_csv_has_exactly_the_allowed_columns_and_cells(moderator, three_reports):
    text_rows = read_csv(moderator.get(CSV_URL))
    assert len(text_rows) == 3
    header = list(text_rows[0])
    assert header == list(service.FIELDS["full_report"])
    by_consent = {row["police_consent"]: row for row in text_rows}
    assert by_consent["full_report"]["reporter_name"] == CONTACT["name"]
    assert by_consent["full_report"]["reporter_note"] == CONTACT["note"]
    # Phone numbers start with "+": a spreadsheet must read them as text, not a formula.
    assert by_consent["full_report"]["offender_phones"] == "07700 900123; +44 7700 900456"
    assert by_consent["anonymous_intelligence"]["offender_names"] == "Dave; D."
    for level in ("anonymous_intelligence", "contact_via_project"):
        for name in service.CONTACT_FIELDS + service.FULL_FIELDS:
            assert by_consent[level][name] == ""
    raw = moderator.get(CSV_URL).data.decode("utf-8-sig")
    assert "Description with consent none." not in raw
    assert "Description with consent contact_via_project." not in raw
    assert raw.count(CONTACT["email"]) == 1


def test_csv_of_intelligence_reports_has_no_contact_columns(client, areas, moderator):
    send(client, consent={"publish": True, "police": "anonymous_intelligence"})
    send(client, consent={"publish": True, "police": "contact_via_project"})
    send(client, consent={"publish": True, "police": "none"})
    text_rows = read_csv(moderator.get(CSV_URL))
    assert len(text_rows) == 2
    assert set(text_rows[0]) == ANONYMOUS
    assert CONTACT["name"] not in moderator.get(CSV_URL).data.decode("utf-8-sig")


def test_empty_pack_is_a_header_only(moderator, areas, client):
    send(client, consent={"publish": True, "police": "none"})
    response = moderator.get(CSV_URL)
    assert read_csv(response) == []
    assert response.data.decode("utf-8-sig").strip() == ",".join(service.ANONYMOUS)


def test_printable_pack_shows_what_consent_allows(moderator, three_reports):
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "Description with consent full_report." in html
    for level in ("none", "anonymous_intelligence", "contact_via_project"):
        assert f"Description with consent {level}." not in html
    assert html.count(CONTACT["name"]) == 1 and html.count(CONTACT["email"]) == 1
    assert "Tattoo of a swallow on his left hand" in html
    assert "Condom removal" in html and "Online ad" in html  # labels, not codes
    assert "Being a sex worker" in html and "A client, or someone posing as one" in html
    assert "never contact the reporter directly" in html
    assert f'href="{CSV_URL}"' in html


def test_printable_pack_of_intelligence_has_no_contact(client, areas, moderator):
    send(client, description="Only the offender may be shared.",
         consent={"publish": True, "police": "anonymous_intelligence"})
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "Only the offender may be shared." not in html
    assert "Tattoo of a swallow on his left hand" in html
    for value in CONTACT.values():
        assert value not in html


def test_report_text_is_escaped_on_the_page(client, areas, moderator):
    send(client, description='<img src=x onerror="alert(1)"><script>alert(2)</script>',
         consent={"publish": True, "police": "full_report"})
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# OWASP's CSV injection starts, and what hides them: leading whitespace, invisible and
# control characters, full-width and small forms.
FORMULAS = ["=HYPERLINK(\"x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
            " =1+1", "\u00a0=1+1", "\u3000@x", "\u200b=x", "\ufeff=x", "\u202e=x",
            "\t=x", "\r\n=x", "\uff1dSUM(A1)", "\uff0b1", "\uff0d1", "\uff20x", "\ufe66x"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_cells_are_defused(client, areas, moderator, formula):
    send(client, description=f"{formula} and then some", offender={"names": [formula + "dave"]},
         consent={"publish": True, "police": "full_report"})
    row = read_csv(moderator.get(CSV_URL))[0]
    assert row["description"].startswith("'") and row["description"][1:].startswith(formula)
    assert row["offender_names"].startswith("'")


@pytest.mark.parametrize("text", ["Dave", "a=b", "07700 900123", "5-6 pm", "\u2212 minus sign"])
def test_plain_cells_are_left_alone(text):
    from server.pages import neutralise_cell
    assert neutralise_cell(text) == text


def test_unreadable_contact_details_say_so(app, client, areas):
    send(client, consent={"publish": True, "police": "full_report"})
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-987654321"
    (row,) = service.pack_rows()
    assert row["reporter_note"] == t("police.contact_unreadable") and row["reporter_name"] is None


# --- Filters ---------------------------------------------------------------------------------

def test_filter_by_date_range_and_area(client, areas, moderator):
    today = date.today()
    days = {"old": today - timedelta(days=40), "mid": today - timedelta(days=20),
            "new": today - timedelta(days=2)}
    for name, day in days.items():
        for area in ("hackney", "camden"):
            send(client, description=f"{name} in {area}", area=area,
                 occurred_on=day.isoformat(), consent={"publish": True, "police": "full_report"})

    def descriptions(**filters):
        return [row["description"] for row in service.pack_rows(**filters)]

    assert descriptions(area_slugs=["camden"]) == [
        "old in camden", "mid in camden", "new in camden"]
    assert sorted(descriptions(date_from=days["mid"], date_to=days["mid"])) == [
        "mid in camden", "mid in hackney"]
    assert descriptions(date_from=days["mid"], area_slugs=["hackney"]) == [
        "mid in hackney", "new in hackney"]

    query = f"?from={days['old']}&to={days['mid']}&area=hackney&area=camden"
    assert sorted(row["description"] for row in read_csv(moderator.get(CSV_URL + query))) == [
        "mid in camden", "mid in hackney", "old in camden", "old in hackney"]
    html = assert_print_page(moderator.get(PAGE_URL + query))
    assert "old in hackney" in html and "new in hackney" not in html
    # The form sends empty fields as empty strings: they mean "not given".
    html = assert_print_page(moderator.get(PAGE_URL + "?from=&to=&area=camden"))
    assert "new in camden" in html and "new in hackney" not in html


@pytest.mark.parametrize("query", ["?from=2026-02-30", "?from=2026-03-01&to=2026-02-01",
                                   "?area=atlantis", "?area=Not A Slug", "?page=2"])
def test_bad_filters_are_refused(moderator, areas, query):
    response = moderator.get(CSV_URL + query)
    assert response.status_code == 422
    assert response.get_json()["errors"]["query"]
    html = assert_print_page(moderator.get(PAGE_URL + query), status=422)
    assert 'role="alert"' in html
    assert not db.session.execute(db.select(AuditEvent).filter_by(action="police_pack")).first()


# --- Who may, and the audit trail -----------------------------------------------------------

def test_only_moderators_and_admins_get_a_pack(app, client, three_reports):
    for path in (CSV_URL, PAGE_URL):
        response = client.get(path)
        assert response.status_code == 401
        assert "Description" not in response.get_data(as_text=True)
    outreach = StaffClient(app, "van", "outreach")
    for path in (CSV_URL, PAGE_URL):
        response = outreach.get(path)
        assert response.status_code == 403
        assert "Description" not in response.get_data(as_text=True)
    for username, role in (("mod", "moderator"), ("boss", "admin")):
        staff = StaffClient(app, username, role)
        assert len(read_csv(staff.get(CSV_URL))) == 3
        assert_print_page(staff.get(PAGE_URL))


def test_each_pack_is_audited_without_report_text(moderator, three_reports):
    read_csv(moderator.get(CSV_URL))
    assert_print_page(moderator.get(PAGE_URL))
    events = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action.like("police_pack%"))
        .order_by(AuditEvent.id)).scalars().all()
    packs = [e for e in events if e.action == "police_pack"]
    assert [(e.target_type, e.target_id) for e in packs] == [("police_pack", "3")] * 2
    shared = {e.target_id for e in events if e.action == "police_pack_report"}
    assert shared == {three_reports[level]["id"] for level in EXPECTED}
    assert all(e.staff_id == packs[0].staff_id is not None for e in events)
    for event in db.session.execute(db.select(AuditEvent)).scalars():
        assert "Description" not in repr((event.action, event.target_type, event.target_id))


def test_a_reference_leads_staff_back_to_the_report(three_reports):
    row = next(r for r in service.pack_rows() if r["police_consent"] == "full_report")
    report = service.report_for_reference(row["reference"].lower())
    assert report is not None and str(report.id) == three_reports["full_report"]["id"]
    assert service.report_for_reference("AAAAA-AAAAA") is None
    none_id = uuid.UUID(three_reports["none"]["id"])
    assert service.report_for_reference(service.reference(none_id)) is None


def test_a_report_without_consent_can_never_become_a_row(three_reports):
    report = db.session.get(Report, uuid.UUID(three_reports["none"]["id"]))
    with pytest.raises(ValueError):
        service.pack_row(report)


def test_print_stylesheet_is_served(client):
    response = client.get("/static/print.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert "size: A4" in css and "@media print" in css
    assert not re.search(r"https?://|@import|url\(", css)


def test_a_large_pack_streams_in_batches_and_its_audit_is_two_statements(
        app, moderator, client, areas, monkeypatch):
    import sqlalchemy as sa
    monkeypatch.setattr(service, "BATCH", 2)
    sent = [send(client, description=f"Report {n}.",
                 consent={"publish": True, "police": LEVELS[1 + n % 3]}) for n in range(7)]
    send(client, description="Not for the police.", consent={"publish": True, "police": "none"})
    inserts = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO audit_event"):
            inserts.append(executemany)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = moderator.get(CSV_URL)
        assert response.is_streamed
        rows = read_csv(response)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert sorted(row["reference"] for row in rows) == sorted(
        service.reference(uuid.UUID(r["id"])) for r in sent)
    assert [row["reference"] for row in rows] == [row["reference"] for row in service.pack_rows()]
    assert any(row["description"] for row in rows)  # the full_report columns are there
    # The pack row and every report's row, in two statements, none of them executemany.
    assert inserts == [False, False]
    events = db.session.execute(db.select(AuditEvent).where(
        AuditEvent.action.like("police_pack%"))).scalars().all()
    assert [e.target_id for e in events if e.action == "police_pack"] == ["7"]
    assert {e.target_id for e in events if e.action == "police_pack_report"} == {
        r["id"] for r in sent}


def test_references_in_bulk_are_the_keyed_base32_code(app):
    import base64

    from server.security import keyed_digest
    ref = service.referencer()
    for n in range(300):
        report_id = uuid.UUID(int=n * 7919 + 1) if n % 2 else uuid.uuid4()
        digest = keyed_digest(app.config["SECRET_KEY"], "police-reference", str(report_id))
        code = base64.b32encode(digest).decode("ascii")[:10]
        assert ref(report_id) == service.reference(report_id) == f"{code[:5]}-{code[5:]}"


def test_each_row_has_its_fields_in_the_order_of_its_level(three_reports):
    for row in service.pack_rows():
        assert tuple(row) == service.FIELDS[row["police_consent"]]


HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\t=x", "\uff1dx", " =x", "", "plain"]


def test_csv_cells_skip_no_check_that_could_matter(app, client, areas, moderator):
    """Every column, even one whose values come from a fixed vocabulary, still gets the
    formula check when it holds anything else: the CSV equals csv_cell of every value."""
    from server.pages import csv_cell
    for n, text in enumerate(HOSTILE):
        send(client, description=f"Report {n}.",
             consent={"publish": True, "police": "full_report"})
        db.session.execute(db.update(Report).where(Report.description == f"Report {n}.").values(
            description=text, offender={"names": [text, "b"], "phones": [text], "build": text,
                                        "vehicle": {"plate": text}, "contact_method": text},
            perpetrator=text or None, part_of_day=text[:16], police_handling=text or None,
            incident_types=[text, "theft"], targeted_because=[text] if text else None))
        db.session.commit()
        if n == 0:
            app.config["PROJECT_NAME"] = text
    header = service.FIELDS["full_report"]
    cells = service.csv_cells(header)
    for row in service.pack_rows():
        assert cells(row) == [csv_cell(row.get(name)) for name in header]
    text_rows = read_csv(moderator.get(CSV_URL))
    assert {row["description"] for row in text_rows} >= {"'=cmd|' /C calc'!A0", "'+1"}
    assert all(row["source"] == "'=cmd|' /C calc'!A0" for row in text_rows)
    assert {row["perpetrator"] for row in text_rows} >= {"'=cmd|' /C calc'!A0", "'@SUM(A1)"}
    assert {row["incident_types"] for row in text_rows} >= {"'-1; theft"}
