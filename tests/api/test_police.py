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
from server.police import service
from server.printing import t
from server.reports.models import Report

from .staff import StaffClient
from .test_reports import CONTACT, full_report

CSV_URL = "/api/v1/staff/police-pack.csv"
PAGE_URL = "/staff/print/police-pack"
OFFENDER_ONLY = set(service.INCIDENT_FIELDS) | set(service.OFFENDER_FIELDS)
WITH_CONTACT = OFFENDER_ONLY | set(service.CONTACT_FIELDS)


@pytest.fixture
def app_config():
    return {"PASSWORD_HASH_FAST": True}


def staff_client(app, username, role):
    """A test client logged in as a new staff member of this role."""
    return StaffClient(app, username, role).client


@pytest.fixture
def moderator(app):
    return staff_client(app, "mod", "moderator")


def assert_print_page(response, status=200):
    """A printable page: HTML with the security headers, never cached, styled by the one
    print stylesheet, with no script, no inline style and nothing from another origin."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert not re.search(r"https?://", html), "a URL of another origin"
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert re.search(r"<[^>]*\son[a-z]+=", html) is None, "an inline event handler"
    assert '<link rel="stylesheet" href="/static/print.css">' in html
    return html


def send(client, **changes):
    report = full_report()
    report.update(changes)
    response = client.post("/api/v1/reports", json=report)
    assert response.status_code == 201, response.get_json()
    return report


@pytest.fixture
def three_reports(client, areas):
    """The same full report three times, once per police consent level."""
    return {level: send(client, description=f"Description with consent {level}.",
                        consent={"publish": True, "police": level})
            for level in ("none", "offender_only", "with_contact")}


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="police-pack-')
    assert response.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


# --- Exactly what each consent allows --------------------------------------------------------

def test_each_consent_level_gives_exactly_its_fields(three_reports):
    rows = {row["police_consent"]: row for row in service.pack_rows()}
    assert set(rows) == {"offender_only", "with_contact"}  # "none": never in a pack

    offender_only, with_contact = rows["offender_only"], rows["with_contact"]
    assert set(offender_only) == OFFENDER_ONLY
    assert set(with_contact) == WITH_CONTACT
    sent = three_reports["with_contact"]
    for row, level in ((offender_only, "offender_only"), (with_contact, "with_contact")):
        assert row["description"] == f"Description with consent {level}."
        assert row["occurred_on"] == sent["occurred_on"]
        assert row["part_of_day"] == "night" and row["area"] == "Hackney"
        assert row["incident_types"] == ["robbery", "threats", "condom_removal"]
        assert row["offender_phones"] == ["07700 900123", "+44 7700 900456"]
        assert row["offender_vehicle_plate"] == "AB12 CDE"
        assert row["offender_contact_method"] == "online_ad"
        assert row["offender_marks"] == "Tattoo of a swallow on his left hand"
    assert {name: with_contact[f"reporter_{name}"] for name in service.CONTACT_PARTS} == CONTACT
    # The offender_only row carries nothing of the reporter's contact details at all.
    assert not any(CONTACT["name"] in str(value) or CONTACT["phone"] in str(value)
                   for value in offender_only.values())
    # The report id (made on the reporter's phone) is not given away.
    ids = {three_reports[level]["id"] for level in three_reports}
    assert not any(str(value) in ids for row in rows.values() for value in row.values())


def test_csv_has_exactly_the_allowed_columns_and_cells(moderator, three_reports):
    text_rows = read_csv(moderator.get(CSV_URL))
    assert len(text_rows) == 2
    header = list(text_rows[0])
    assert header == list(service.FIELDS["with_contact"])
    by_consent = {row["police_consent"]: row for row in text_rows}
    assert by_consent["with_contact"]["reporter_name"] == CONTACT["name"]
    assert by_consent["with_contact"]["reporter_note"] == CONTACT["note"]
    # Phone numbers start with "+": a spreadsheet must read them as text, not a formula.
    assert by_consent["with_contact"]["offender_phones"] == "07700 900123; +44 7700 900456"
    assert by_consent["offender_only"]["offender_names"] == "Dave; D."
    for name in service.CONTACT_FIELDS:
        assert by_consent["offender_only"][name] == ""
    raw = moderator.get(CSV_URL).data.decode("utf-8-sig")
    assert "Description with consent none." not in raw
    assert raw.count(CONTACT["email"]) == 1


def test_csv_of_offender_only_reports_has_no_contact_columns(client, areas, moderator):
    send(client, consent={"publish": True, "police": "offender_only"})
    send(client, consent={"publish": True, "police": "none"})
    text_rows = read_csv(moderator.get(CSV_URL))
    assert len(text_rows) == 1
    assert set(text_rows[0]) == OFFENDER_ONLY
    assert CONTACT["name"] not in moderator.get(CSV_URL).data.decode("utf-8-sig")


def test_empty_pack_is_a_header_only(moderator, areas, client):
    send(client, consent={"publish": True, "police": "none"})
    response = moderator.get(CSV_URL)
    assert read_csv(response) == []
    assert response.data.decode("utf-8-sig").strip() == ",".join(service.FIELDS["offender_only"])


def test_printable_pack_shows_what_consent_allows(moderator, three_reports):
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "Description with consent offender_only." in html
    assert "Description with consent with_contact." in html
    assert "Description with consent none." not in html
    assert html.count(CONTACT["name"]) == 1 and html.count(CONTACT["email"]) == 1
    assert "Tattoo of a swallow on his left hand" in html
    assert "Condom removal" in html and "Online ad" in html  # labels, not codes
    assert f'href="{CSV_URL}"' in html


def test_printable_pack_of_offender_only_has_no_contact(client, areas, moderator):
    send(client, description="Only the offender may be shared.",
         consent={"publish": True, "police": "offender_only"})
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "Only the offender may be shared." in html
    for value in CONTACT.values():
        assert value not in html


def test_report_text_is_escaped_on_the_page(client, areas, moderator):
    send(client, description='<img src=x onerror="alert(1)"><script>alert(2)</script>',
         consent={"publish": True, "police": "offender_only"})
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_formula_cells_are_defused(client, areas, moderator):
    send(client, description="=HYPERLINK(\"x\",\"y\")", offender={"names": ["@dave"]},
         consent={"publish": True, "police": "offender_only"})
    row = read_csv(moderator.get(CSV_URL))[0]
    assert row["description"] == "'=HYPERLINK(\"x\",\"y\")"
    assert row["offender_names"] == "'@dave"


def test_unreadable_contact_details_say_so(app, client, areas):
    send(client, consent={"publish": True, "police": "with_contact"})
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
                 occurred_on=day.isoformat(), consent={"publish": True, "police": "offender_only"})

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
    outreach = staff_client(app, "van", "outreach")
    for path in (CSV_URL, PAGE_URL):
        response = outreach.get(path)
        assert response.status_code == 403
        assert "Description" not in response.get_data(as_text=True)
    for username, role in (("mod", "moderator"), ("boss", "admin")):
        staff = staff_client(app, username, role)
        assert len(read_csv(staff.get(CSV_URL))) == 2
        assert_print_page(staff.get(PAGE_URL))


def test_each_pack_is_audited_without_report_text(moderator, three_reports):
    read_csv(moderator.get(CSV_URL))
    assert_print_page(moderator.get(PAGE_URL))
    events = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action.like("police_pack%"))
        .order_by(AuditEvent.id)).scalars().all()
    packs = [e for e in events if e.action == "police_pack"]
    assert [(e.target_type, e.target_id) for e in packs] == [("police_pack", "2")] * 2
    shared = {e.target_id for e in events if e.action == "police_pack_report"}
    assert shared == {three_reports["offender_only"]["id"], three_reports["with_contact"]["id"]}
    assert all(e.staff_id == packs[0].staff_id is not None for e in events)
    for event in db.session.execute(db.select(AuditEvent)).scalars():
        assert "Description" not in repr((event.action, event.target_type, event.target_id))


def test_a_reference_leads_staff_back_to_the_report(three_reports):
    row = next(r for r in service.pack_rows() if r["police_consent"] == "with_contact")
    report = service.report_for_reference(row["reference"].lower())
    assert report is not None and str(report.id) == three_reports["with_contact"]["id"]
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
