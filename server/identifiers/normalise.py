"""One canonical form per identifier, so "07700 900123" and "+44 7700 900123" match.

Each function returns None when nothing usable is left (so it is never indexed).
"""
import functools
import re
import unicodedata

import phonenumbers
from flask import current_app

KINDS = ("phone", "email", "handle", "plate", "name")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


# Why a phone number as written could not be read as exactly one number; staff see it.
PHONE_PROBLEMS = ("several_numbers", "letters_in_number", "unreadable")
# Letters people type for look-alike digits, next to digits: a guess, never indexed.
_LOOKALIKE = re.compile(r"(?<=\d)[OoIl|]|[OoIl|](?=\d)")
_LOOKALIKE_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"}
_KEYPAD_WORD = re.compile(r"[A-Za-z]{3,}")


def _ascii_digits(text):
    """NFKC (full-width forms), then every other script's decimal digits as 0-9."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c
                   for c in text)


def _e164(number):
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _matches(text, region):
    """Numbers found in free text; a number possible only as a local (short) number,
    like the "0800" of "0800 FLOWERS", is no match."""
    try:
        found = list(phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE))
    except Exception:  # the library's own limits on odd input
        return []
    return [m for m in found if phonenumbers.is_possible_number_with_reason(m.number)
            == phonenumbers.ValidationResult.IS_POSSIBLE]


# Most numbers arrive as digits alone, or in groups, maybe after a +: "07700 900123",
# "+447700900123". Then the matcher (which looks for numbers inside text) would find the
# whole text as its one match whenever the whole text parses as a possible number, so
# parsing it directly gives the same answer at a third of the cost; anything else, or a
# whole that is not possible, goes the matcher's way (test_normalise checks both ways
# agree).
_PLAIN_NUMBER = re.compile(r"\+?[0-9]+(?: [0-9]+)*")


def _plain_number(text, region):
    """E.164 of a plain number that is possible in `region` as a whole, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return _e164(number)


@functools.lru_cache(maxsize=4096)
def read_phone(raw, region):
    """A phone number as people write it -> (E.164 or None, problem or None).

    Words, notes and brackets around the number are left out ("07700 900124 (Dave)",
    "call 07700900124 after 6pm"); `+44 (0)`, `0044`, dots, dashes, extensions and other
    scripts' or full-width digits are read. The number comes out only when the text
    holds exactly one; otherwise `problem` says why (PHONE_PROBLEMS) and the value is:
    - several_numbers ("07700 900124 or 900125", "07700 900124/5"): None;
    - letters_in_number ("07700 9OO124", keypad words): None: the reading is a guess,
      and a guess is never stored as the number (suggest_phone() shows it to staff);
    - unreadable (digits, but no number possible in `region`): its digits alone, which
      can never equal an E.164 value, so the same odd spelling still links to itself.
    Text with no digits at all is (None, None).
    Remembered per (raw, region), the last 4,096 of them: the phone library takes about
    0.1 ms a number, and the same numbers come back (reports about one offender, checks,
    the reports a sync batch repeats after a lost answer)."""
    text = (raw or "").strip()
    if _PLAIN_NUMBER.fullmatch(text):
        value = _plain_number(text, region)
        if value is not None:
            return value, None
    return _read_text(_ascii_digits(text), region)


def _read_text(text, region):
    """read_phone() of stripped text with ASCII digits, through the matcher."""
    if not any(c.isdigit() for c in text):
        return None, None
    found = _matches(text, region)
    values = {_e164(m.number) for m in found}
    if len(values) > 1:
        return None, "several_numbers"
    if len(values) == 1:
        rest = list(text)
        for m in found:
            rest[m.start:m.end] = " " * (m.end - m.start)
        rest = "".join(rest)
        # Digits touching the number ("/5", "-6", "9OO124") make it ambiguous; digits
        # further off in words ("after 6pm") are something else.
        for m in found:
            near = rest[max(0, m.start - 3):m.start] + rest[m.end:m.end + 3]
            if any(c.isdigit() for c in near):
                letters = any(c in "OoIl|" for c in near + rest[m.end:m.end + 1])
                return None, "letters_in_number" if letters else "several_numbers"
            if rest[m.end:m.end + 1].isalpha() and text[m.end - 1:m.end].isdigit() \
                    and rest[m.end:m.end + 1] in "OoIl":
                return None, "letters_in_number"
        return values.pop(), None
    if any(c.isalpha() for c in text):
        return None, "letters_in_number"
    digits = re.sub(r"\D", "", text)
    return (digits if len(digits) >= 5 else None), "unreadable"


def suggest_phone(raw, region):
    """For staff only: the number a flagged spelling most likely means (keypad words as
    their digits, look-alike letters next to digits as digits), or None. Never indexed."""
    value, problem = read_phone(raw, region)
    if value and not problem:
        return value
    text = _ascii_digits((raw or "").strip())
    if not _KEYPAD_WORD.search(text):
        previous = None
        while previous != text:
            previous, text = text, _LOOKALIKE.sub(lambda m: _LOOKALIKE_DIGIT[m.group()], text)
        value, problem = read_phone(text, region)
        if value and not problem:
            return value
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return _e164(number) if phonenumbers.is_possible_number(number) else None


def default_region():
    """The region a phone number without a country code is read in: the deployment's
    DEFAULT_PHONE_REGION (server/config.py holds its default)."""
    return current_app.config["DEFAULT_PHONE_REGION"]


def phone(raw, region):
    """The indexed form of a phone number (read_phone's value), or None."""
    return read_phone(raw, region)[0]


def email(raw):
    text = (raw or "").strip().lower()
    return text if "@" in text else None


def handle(raw):
    """Online handles: case, a leading @, spaces and punctuation do not matter."""
    text = _NOT_ALNUM.sub("", (raw or "").strip().lower().lstrip("@"))
    return text or None


def plate(raw):
    text = _NOT_ALNUM.sub("", (raw or "").lower()).upper()
    return text or None


def name(raw):
    text = " ".join(re.sub(r"[^\w\s]", " ", (raw or "").lower()).split())
    return text or None


def normalise(kind, raw, region):
    if kind == "phone":
        return phone(raw, region)
    return {"email": email, "handle": handle, "plate": plate, "name": name}[kind](raw)


def phone_problems(offender, region):
    """The offender's phone numbers that could not be read as exactly one number, for
    staff: [{"kind": "phone", "value": as written, "problem": PHONE_PROBLEMS item,
    "suggestion": E.164 or None}]."""
    found = []
    for raw in (offender or {}).get("phones") or []:
        _value, problem = read_phone(raw, region)
        if problem:
            found.append({"kind": "phone", "value": raw, "problem": problem,
                          "suggestion": suggest_phone(raw, region)})
    return found


def from_offender(offender, region):
    """The (kind, normalised, raw) identifiers in a report's offender description."""
    offender = offender or {}
    found = []
    for kind, key in (("phone", "phones"), ("email", "emails"), ("handle", "handles"),
                      ("name", "names")):
        for raw in offender.get(key) or []:
            found.append((kind, raw))
    vehicle_plate = (offender.get("vehicle") or {}).get("plate")
    if vehicle_plate:
        found.append(("plate", vehicle_plate))
    seen, result = set(), []
    for kind, raw in found:
        value = normalise(kind, raw, region)
        if value and (kind, value) not in seen:
            seen.add((kind, value))
            result.append((kind, value, raw))
    return result
