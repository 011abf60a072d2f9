"""One canonical form per identifier, so "07700 900123" and "+44 7700 900123" match.

Each function returns None when nothing usable is left (so it is never indexed).
"""
import re

import phonenumbers

KINDS = ("phone", "email", "handle", "plate", "name")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def phone(raw, region="GB"):
    """E.164 where the number is possible in `region` (or carries its own country code);
    otherwise its digits alone, so an odd number still matches itself."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 5 else None


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


def normalise(kind, raw, region="GB"):
    if kind == "phone":
        return phone(raw, region)
    return {"email": email, "handle": handle, "plate": plate, "name": name}[kind](raw)


def from_offender(offender, region="GB"):
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
