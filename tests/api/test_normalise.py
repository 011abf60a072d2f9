import pytest

from server.identifiers import normalise


@pytest.mark.parametrize("raw", ["07700 900123", "+44 7700 900123", "0044 7700 900123",
                                 "(07700) 900-123", "07700900123"])
def test_uk_phone_forms_match(raw):
    assert normalise.phone(raw, "GB") == "+447700900123"


def test_foreign_phone_keeps_its_country():
    assert normalise.phone("+1 (415) 555-0100", "GB") == "+14155550100"


def test_junk_phone_is_not_indexed():
    assert normalise.phone("call me", "GB") is None


@pytest.mark.parametrize("raw", ["Bad.Guy@Example.com", " bad.guy@example.COM "])
def test_emails_match(raw):
    assert normalise.email(raw) == "bad.guy@example.com"


@pytest.mark.parametrize("raw", ["AB12 CDE", "ab12cde", "AB-12-CDE", " ab12 cde "])
def test_plates_match(raw):
    assert normalise.plate(raw) == "AB12CDE"


@pytest.mark.parametrize("raw", ["@Dave_London", "dave london", "DAVE.LONDON"])
def test_handles_match(raw):
    assert normalise.handle(raw) == "davelondon"


def test_from_offender_dedupes_and_covers_every_kind():
    offender = {"phones": ["07700 900123", "+44 7700 900123"], "emails": ["A@B.com"],
                "handles": ["@x_y"], "names": ["Dave"], "vehicle": {"plate": "ab12 cde"}}
    found = {(kind, value) for kind, value, _ in normalise.from_offender(offender, "GB")}
    assert found == {("phone", "+447700900123"), ("email", "a@b.com"), ("handle", "xy"),
                     ("name", "dave"), ("plate", "AB12CDE")}
