"""Phone numbers as people really write them in reports (issue 9, kind 7): each one reads
as one E.164 number, or is flagged for staff; never silently indexed as another number.

The corpus: UK, Ireland, France, the USA and Canada, with notes in brackets, trailing
words, `+44 (0)`, `0044`, dots, extensions, other scripts' digits and letters standing
for digits. The 07700 900xxx numbers are Ofcom's drama range; 555-01xx is North
America's fictional range.
"""
import uuid

import phonenumbers
import pytest

from server.identifiers import normalise

from factories import StaffClient

UK = "+447700900124"
CORPUS = [
    # (as written, the region the server is set to, the one number, or the problem)
    ("07700 900124", "GB", UK),
    ("07700 900124 (Dave)", "GB", UK),
    ("07700 900124 Dave", "GB", UK),
    ("Dave: 07700-900124", "GB", UK),
    ("call 07700900124 after 6pm", "GB", UK),
    ("07700 900 124 whatsapp only", "GB", UK),
    ("+44 7700 900124 (work)", "GB", UK),
    ("+44 (0)7700 900124", "GB", UK),
    ("+44 (0) 7700-900-124", "GB", UK),
    ("+44 07700 900124", "GB", UK),
    ("0044 7700 900124", "GB", UK),
    ("0044-7700-900-124", "GB", UK),
    ("07700.900.124", "GB", UK),
    ("(07700) 900124", "GB", UK),
    ("07700 900124 ext. 12", "GB", UK),
    ("07700 900124 x12", "GB", UK),
    ("tel:+447700900124", "GB", UK),
    ("07700900124 07700900124", "GB", UK),  # the same number twice is one number
    ("\uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff14", "GB", UK),  # full-width
    ("\u0660\u0667\u0667\u0660\u0660 \u0669\u0660\u0660\u0661\u0662\u0664", "GB", UK),  # Arabic-Indic
    ("\u06f0\u06f7\u06f7\u06f0\u06f0 \u06f9\u06f0\u06f0\u06f1\u06f2\u06f4", "GB", UK),  # Persian
    ("\u0966\u096d\u096d\u0966\u0966 \u096f\u0966\u0966\u0967\u0968\u096a", "GB", UK),  # Devanagari
    ("+44 7700 900124", "US", UK),  # a UK number on a US server
    ("011 44 7700 900124", "US", UK),
    ("(415) 555-0100", "US", "+14155550100"),
    ("415.555.0100", "US", "+14155550100"),
    ("+1 415 555 0100 (cell)", "GB", "+14155550100"),
    ("1-415-555-0100 text only", "US", "+14155550100"),
    ("+1 (416) 555-0199", "CA", "+14165550199"),
    ("416-555-0199 ask for Mike", "CA", "+14165550199"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("06.12.34.56.78", "FR", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "FR", "+33612345678"),
    ("00 33 6 12 34 56 78", "GB", "+33612345678"),
    ("0033612345678", "GB", "+33612345678"),
    ("06 12 34 56 78 (Karim)", "FR", "+33612345678"),
    ("087 123 4567", "IE", "+353871234567"),
    ("(087) 1234567", "IE", "+353871234567"),
    ("+353 (0)87 123 4567", "IE", "+353871234567"),
    ("00353 87 123 4567", "GB", "+353871234567"),
    ("+353 87 123 4567 - said his name was Sean", "GB", "+353871234567"),
    # Flagged for staff, never read as a number:
    ("07700 900124/5", "GB", "several_numbers"),
    ("07700 900124 or 07700 900125", "GB", "several_numbers"),
    ("07700 900124, 07700 900125", "GB", "several_numbers"),
    ("07700 9OO124", "GB", "letters_in_number"),   # capital O for zero
    ("07700 900l24", "GB", "letters_in_number"),   # small L for one
    ("0770O 9001 24", "GB", "letters_in_number"),
    ("1-800-FLOWERS", "US", "letters_in_number"),  # keypad letters
    ("0800 FLOWERS", "GB", "letters_in_number"),
    ("12345", "GB", "unreadable"),
    ("555-0100", "US", "unreadable"),              # no area code
]


@pytest.mark.parametrize("raw,region,expected", CORPUS)
def test_corpus(raw, region, expected):
    value, problem = normalise.read_phone(raw, region)
    if expected.startswith("+"):
        assert (value, problem) == (expected, None)
    else:
        assert problem == expected
        # Flagged: never indexed as a number; an unreadable one keeps its digits only,
        # which cannot equal any E.164 value.
        assert value is None or (problem == "unreadable" and value.isdigit())


def test_corpus_is_large_and_covers_four_countries_beyond_the_uk():
    assert len(CORPUS) >= 40
    country_codes = {phonenumbers.parse(expected).country_code
                     for _raw, _region, expected in CORPUS if expected.startswith("+")}
    servers = {region for _raw, region, _expected in CORPUS}
    assert country_codes == {44, 1, 33, 353} and servers == {"GB", "US", "CA", "FR", "IE"}


@pytest.mark.parametrize("raw,expected", [
    ("07700 9OO124", UK), ("07700 900l24", UK), ("1-800-FLOWERS", "+18003569377"),
    ("07700 900124 or 07700 900125", None)])
def test_staff_get_a_suggestion_for_a_flagged_number(raw, expected):
    region = "US" if "FLOWERS" in raw else "GB"
    assert normalise.suggest_phone(raw, region) == expected


def test_the_old_fallback_never_returns(app):
    # "07700 900124 (Dave)" became "07700900124" (bare digits, never matching).
    assert normalise.phone("07700 900124 (Dave)", "GB") == UK
    assert normalise.phone("07700 9OO124", "GB") is None


# --- Over the API, on both engines ---------------------------------------------------------

def _report(phone):
    return {"id": str(uuid.uuid4()), "occurred_on": "2026-11-20", "area": "hackney",
            "incident_types": ["physical_assault"], "description": "Punched me.",
            "offender": {"phones": [phone]}}


def test_reports_written_differently_link_and_flagged_ones_reach_staff(client, app, areas):
    moderator = StaffClient(app, "mod", "moderator")
    ids = []
    for phone in ("07700 900124 (Dave)", "+44 (0)7700-900-124", "07700 900124/5"):
        body = _report(phone)
        assert client.post("/api/v1/reports", json=body).status_code == 201
        ids.append(body["id"])
    first = moderator.get(f"/reports/{ids[0]}").get_json()
    assert first["identifiers"][0]["other_reports"] == [ids[1]]
    assert first["unreadable_identifiers"] == []
    flagged = moderator.get(f"/reports/{ids[2]}").get_json()
    assert flagged["identifiers"] == []  # not indexed as 07700 900124 nor 900125
    assert flagged["unreadable_identifiers"] == [
        {"kind": "phone", "value": "07700 900124/5", "problem": "several_numbers",
         "suggestion": None}]
    # Staff search by the number finds the two readable reports, not the flagged one.
    found = moderator.get("/reports?identifier_kind=phone&identifier=07700900124").get_json()
    assert sorted(item["id"] for item in found["reports"]) == sorted(ids[:2])


def test_an_alerts_phone_must_be_one_number(client, app, areas):
    moderator = StaffClient(app, "mod", "moderator")
    body = _report("07700 900124")
    client.post("/api/v1/reports", json=body)
    draft = {"reports": [body["id"]], "title": "Violent", "summary": "Hit a worker.",
             "severity": "dangerous", "incident_types": ["physical_assault"], "areas": ["hackney"],
             "identifiers": [{"kind": "phone", "value": "07700 9OO124", "display": "full"}]}
    reply = moderator.post("/alerts", json=draft)
    assert reply.status_code == 422
    assert "one phone number" in str(reply.get_json()["errors"])


def test_a_members_check_of_a_flagged_spelling_is_a_422_not_a_wrong_answer(client, areas):
    from server.accounts.models import Member
    from server.extensions import db
    from server.security import hash_token
    db.session.add(Member(token_hash=hash_token("corpus-member")))
    db.session.commit()
    headers = {"Authorization": "Bearer corpus-member"}
    for value in ("07700 9OO124", "07700 900124/5"):
        reply = client.post("/api/v1/checks", json={"kind": "phone", "value": value}, headers=headers)
        assert reply.status_code == 422, value
        assert "one phone number" in reply.get_json()["errors"]["json"]["value"][0]
    reply = client.post("/api/v1/checks", json={"kind": "phone", "value": "07700 900124 (Dave)"},
                        headers=headers)
    assert reply.status_code == 200
