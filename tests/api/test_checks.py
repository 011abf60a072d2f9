"""Check a number: members only, respects how staff chose to show each identifier,
rate-limited per member."""
import pytest

from server.accounts.models import Member
from server.extensions import db
from server.identifiers.service import index_alert

from factories import make_alert, make_member


@pytest.fixture
def app_config():
    return {"CHECK_RATE_LIMIT": "5 per hour"}


def member_headers(token="member-token-for-checks"):
    return make_member(token)[1]


def published(title, identifiers, retracted=False):
    alert, _ = make_alert(title, summary="Violent when refused.", severity="dangerous",
                          incident_types=["physical_assault"], identifiers=identifiers,
                          state="retracted" if retracted else "live")
    index_alert(alert)
    db.session.commit()
    return alert


def check(client, headers, kind, value):
    return client.post("/api/v1/checks", json={"kind": kind, "value": value}, headers=headers)


def test_full_masked_and_hidden_identifiers(client, areas):
    headers = member_headers()
    published("Shown in full", [{"kind": "phone", "value": "07700 900123", "display": "full"}])
    published("Masked", [{"kind": "phone", "value": "07700 900456", "display": "masked"}])
    published("Hidden", [{"kind": "phone", "value": "07700 900789", "display": "hidden"}])

    full = check(client, headers, "phone", "+44 7700 900123").get_json()
    assert [a["title"] for a in full["alerts"]] == ["Shown in full"]
    assert full["alerts"][0]["identifiers"] == [{"kind": "phone", "value": "07700 900123"}]
    assert full["withheld"] is False

    masked = check(client, headers, "phone", "0044 7700 900456").get_json()
    assert [a["title"] for a in masked["alerts"]] == ["Masked"]
    shown = masked["alerts"][0]["identifiers"][0]["value"]
    assert shown.endswith("456") and "900456" not in shown.replace(" ", "")

    hidden = check(client, headers, "phone", "(07700) 900-789").get_json()
    assert hidden["alerts"] == [] and hidden["withheld"] is True
    assert "contact the project" in hidden["message"].lower()
    assert "Hidden" not in str(hidden)


def test_retracted_and_unknown_match_nothing(client, areas):
    headers = member_headers()
    published("Gone", [{"kind": "plate", "value": "AB12 CDE", "display": "full"}], retracted=True)
    for value in ("ab12cde", "ZZ99 ZZZ"):
        body = check(client, headers, "plate", value).get_json()
        assert body["alerts"] == [] and body["withheld"] is False


def test_non_member_gets_401(client, areas):
    assert check(client, {}, "phone", "07700 900123").status_code == 401
    assert check(client, {"Authorization": "Bearer nope"}, "phone", "07700 900123").status_code == 401


@pytest.mark.parametrize("body", [
    {"kind": "phone", "value": "0770*"},
    {"kind": "phone", "value": "%"},
    {"kind": "name", "value": "Dave"},
    {"kind": "phone"},
    {"kind": "phone", "value": "07700 900123", "extra": 1},
    {"kind": "phone", "value": "x" * 300},
    {"kind": "phone", "value": "not a number"},
])
def test_bad_checks_get_field_errors(client, areas, body):
    response = client.post("/api/v1/checks", json=body, headers=member_headers())
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]


def test_refused_callers_between_checks_leave_the_count_as_it_was(client, areas):
    """No token, a bad token: 401 each time, and the member's limit still counts exactly
    (the limiter must not switch to a second, empty store when its key check refuses)."""
    headers = member_headers()
    codes = []
    for _ in range(7):
        codes.append(check(client, headers, "phone", "07700 900123").status_code)
        assert check(client, {}, "phone", "07700 900123").status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert check(client, bad, "phone", "07700 900123").status_code == 401
    assert codes == [200] * 5 + [429] * 2


def test_rate_limit_per_member_and_counted(client, areas):
    headers = member_headers()
    for _ in range(5):
        assert check(client, headers, "phone", "07700 900123").status_code == 200
    limited = check(client, headers, "phone", "07700 900123")
    assert limited.status_code == 429
    assert limited.get_json()["message"]
    other = member_headers("another-member-token")
    assert check(client, other, "phone", "07700 900123").status_code == 200
    counts = sorted(m.check_count for m in db.session.execute(db.select(Member)).scalars())
    assert counts == [1, 5]
