import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# --- The plain-number shortcut of read_phone -------------------------------------------
# Digits alone or in groups, maybe after a +, are parsed directly instead of searched by
# the matcher; the answer must be the matcher's, every time.
REGIONS = ["GB", "US", "CA", "FR", "IE", "DE", "IT", "ES", "NL", "IN", "BR", "AR", "MX",
           "NG", "CN", "JP", "AU", "RO", "PL", "HU", "TH", "BG", "PT", "ZA", "RU"]


def _plain_forms(number):
    """A real number written the plain ways people do: national and international,
    with and without the spaces."""
    forms = set()
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL,
                  phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                  phonenumbers.PhoneNumberFormat.E164):
        written = phonenumbers.format_number(number, style)
        digits_and_spaces = "".join(c for c in written if c.isdigit() or c in " +")
        forms.update({" ".join(digits_and_spaces.split()), digits_and_spaces.replace(" ", "")})
    return {f for f in forms if normalise._PLAIN_NUMBER.fullmatch(f)}


def _agrees(text, region):
    assert normalise._PLAIN_NUMBER.fullmatch(text)
    assert normalise.read_phone.__wrapped__(text, region) == normalise._read_text(text, region), \
        (text, region)


@pytest.mark.parametrize("region", REGIONS)
def test_plain_numbers_read_as_the_matcher_reads_them(region):
    for kind in phonenumbers.PhoneNumberType.values():
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for text in _plain_forms(number):
            _agrees(text, region)
            for other in ("GB", "US", "FR"):
                _agrees(text, other)


@settings(max_examples=3000, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(plus=st.booleans(), groups=st.lists(st.text("0123456789", min_size=1, max_size=8),
                                           min_size=1, max_size=6),
       region=st.sampled_from(REGIONS))
def test_any_plain_digits_read_as_the_matcher_reads_them(plus, groups, region):
    _agrees(("+" if plus else "") + " ".join(groups), region)
