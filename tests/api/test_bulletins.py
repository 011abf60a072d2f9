"""The paper bulletin: only live alerts of the chosen areas, identifiers exactly as
members see them (masked masked, hidden never printed), a neutral heading; staff only."""
import re

import pytest

from server.accounts.models import AuditEvent
from server.alerts import service as alerts
from server.bulletins import service
from server.extensions import db

from factories import StaffClient, assert_print_page, make_alert

URL = "/staff/print/bulletin"
MASKED_PHONE = "+44 7700 900123"
HIDDEN_PHONE = "07700 900999"
HIDDEN_NAME = "Dave Secretname"
FULL_PLATE = "AB12 CDE"
MASKED_EMAIL = "dave.smith@example.com"


@pytest.fixture
def some_alerts(areas):
    make_alert("Hackney live", severity="risky")
    make_alert("Hackney dangerous", severity="dangerous")
    make_alert("Camden live", areas=("camden",))
    make_alert("Camden and Islington", areas=("camden", "islington"), severity="nuisance")
    make_alert("Hackney draft", state="draft")
    make_alert("Hackney retracted", state="retracted")
    make_alert("Hackney expired", state="expired")


def titles(html):
    return re.findall(r"<h2>(.*?)</h2>", html)


def test_only_live_alerts_of_the_chosen_areas(outreach, some_alerts):
    html = assert_print_page(outreach.get(URL + "?area=hackney"))
    # Most severe first.
    assert titles(html) == ["Hackney dangerous", "Hackney live"]
    assert "For: Hackney" in html
    html = assert_print_page(outreach.get(URL + "?area=camden&area=islington"))
    assert titles(html) == ["Camden live", "Camden and Islington"]
    assert "For: Camden, Islington" in html
    html = assert_print_page(outreach.get(URL + "?area=islington"))
    assert titles(html) == ["Camden and Islington"]
    html = assert_print_page(outreach.get(URL))
    assert sorted(titles(html)) == ["Camden and Islington", "Camden live", "Hackney dangerous",
                                    "Hackney live"]
    assert "For: All areas" in html
    for gone in ("draft", "retracted", "expired"):
        assert f"Hackney {gone}" not in html
    html = assert_print_page(outreach.get(URL + "?area=westminster"))
    assert titles(html) == [] and "Nothing to note for these areas" in html


def test_identifiers_as_members_see_them(outreach, areas):
    make_alert("With identifiers", identifiers=[
        {"kind": "phone", "value": MASKED_PHONE, "display": "masked"},
        {"kind": "email", "value": MASKED_EMAIL, "display": "masked"},
        {"kind": "plate", "value": FULL_PLATE, "display": "full"},
        {"kind": "name", "value": HIDDEN_NAME, "display": "hidden"},
        {"kind": "phone", "value": HIDDEN_PHONE, "display": "hidden"},
    ])
    html = assert_print_page(outreach.get(URL))
    masked_phone = alerts.mask("phone", MASKED_PHONE)
    assert masked_phone != MASKED_PHONE and masked_phone in html
    assert MASKED_PHONE not in html and "900123" not in html
    assert alerts.mask("email", MASKED_EMAIL) in html and MASKED_EMAIL not in html
    assert FULL_PLATE in html
    # Hidden ones are never printed, in any form; the page says staff hold more.
    assert HIDDEN_NAME not in html and "Secretname" not in html
    assert HIDDEN_PHONE not in html and "900999" not in html
    assert alerts.mask("phone", HIDDEN_PHONE) not in html
    assert "Further details are held by staff" in html

    (item,) = service.bulletin_items()
    assert item["identifiers"] == [{"kind": "phone", "value": masked_phone},
                                   {"kind": "email", "value": alerts.mask("email", MASKED_EMAIL)},
                                   {"kind": "plate", "value": FULL_PLATE}]
    assert item["withheld_identifiers"] == 2


def test_all_shown_means_no_withheld_note(outreach, areas):
    make_alert("Nothing hidden", identifiers=[{"kind": "plate", "value": FULL_PLATE,
                                               "display": "full"}])
    html = assert_print_page(outreach.get(URL))
    assert FULL_PLATE in html and "Further details" not in html


def test_alert_text_is_escaped(outreach, areas):
    make_alert("<b>Bold</b> & <script>x</script>")
    html = assert_print_page(outreach.get(URL))
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html


def test_heading_is_neutral_and_page_is_printable(outreach, some_alerts):
    html = assert_print_page(outreach.get(URL + "?area=hackney"))
    assert "<title>Safety notes</title>" in html and "<h1>Safety notes</h1>" in html
    lowered = html.lower()
    for word in ("redflag", "ugly mug", "bad date", "sex work", "client", "offender"):
        assert word not in lowered, word
    assert "Printed on" in html and "Dangerous" in html
    assert '<nav class="controls no-print"' in html


def test_staff_only(app, client, some_alerts):
    response = client.get(URL)
    assert response.status_code == 401
    assert "Hackney live" not in response.get_data(as_text=True)
    for username, role in (("van", "outreach"), ("mod", "moderator"), ("boss", "admin")):
        assert "Hackney live" in assert_print_page(StaffClient(app, username, role).get(URL))


@pytest.mark.parametrize("query", ["?area=atlantis", "?area=Bad Slug", "?since=2026-01-01"])
def test_bad_query_is_shown_on_the_page(outreach, areas, query):
    html = assert_print_page(outreach.get(URL + query), status=422)
    assert 'role="alert"' in html


def test_each_bulletin_is_audited(outreach, some_alerts):
    outreach.get(URL + "?area=hackney")
    outreach.get(URL)
    events = db.session.execute(db.select(AuditEvent).filter_by(action="bulletin_printed")
                                .order_by(AuditEvent.id)).scalars().all()
    assert [(e.target_type, e.target_id) for e in events] == [("bulletin", "2"), ("bulletin", "4")]
    assert all(e.staff_id is not None for e in events)
