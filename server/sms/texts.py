"""The words of every text, in the member's language, and how many segments a text costs.

Each language is one file, server/locales/sms-<code>.json (sms-en.json is the reference:
every other file has the same keys). Adding a language is adding a file.

Segments: a text in the GSM 03.38 alphabet is 160 characters in one SMS, 153 per part
when it is split (extension characters such as € count twice); any other character
makes the whole text UCS-2: 70 in one SMS, 67 per part.
"""
import functools
import json
import math
import re
import unicodedata
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "locales"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = set("^{}\\[~]|€\f")
# A long text is cut to this many segments (READ of a long alert): cost stays bounded.
MAX_SEGMENTS = 4


@functools.cache
def catalogue(language):
    path = LOCALES / f"sms-{language}.json"
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", language) or not path.is_file():
        raise KeyError(language)
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def languages():
    """{code: name in that language} for every sms-<code>.json."""
    found = {}
    for path in sorted(LOCALES.glob("sms-*.json")):
        code = path.stem[len("sms-"):]
        found[code] = catalogue(code)["language"]
    return found


def t(language, key, **params):
    """The text for `key` in `language` (English when the file lacks it), {placeholders}
    filled."""
    text = catalogue(language).get(key)
    if text is None:
        text = catalogue("en")[key]
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text)


def segments(text):
    """(encoding, number of SMS segments): ("GSM-7" | "UCS-2", n >= 1)."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        septets = len(text) + sum(c in GSM_EXTENSION for c in text)
        return "GSM-7", 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else math.ceil(units / 67)


def fit(text, max_segments=MAX_SEGMENTS):
    """`text`, cut with "..." so that it takes at most `max_segments` segments."""
    if segments(text)[1] <= max_segments:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits, with its ellipsis
        middle = (low + high + 1) // 2
        if segments(text[:middle].rstrip() + "...")[1] <= max_segments:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "..."


# --- Alerts as texts ----------------------------------------------------------------------

def _join(items, limit=3):
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")


def alert_parts(language, alert, area_names, identifiers, withheld):
    """The placeholders every alert text shares. `identifiers`: [{"kind", "value"}] as
    members may see them (hidden ones already left out); `withheld`: how many were hidden."""
    types = [t(language, f"incident.{kind}") for kind in alert.incident_types or []]
    # "*" for the mask: "•" is outside the GSM alphabet and would double the text's cost.
    listed = "; ".join(t(language, "identifier." + item["kind"]) + " " + item["value"].replace("•", "*")
                       for item in identifiers)
    shown = t(language, "alert.identifiers", list=listed) if listed else ""
    if withheld:
        shown += t(language, "alert.withheld")
    types_text = _join(types, 4)
    return {"title": alert.title.strip().rstrip("."), "severity": t(language, f"severity.{alert.severity}"),
            "areas": _join(area_names), "types": types_text[:1].upper() + types_text[1:],
            "identifiers": shown}


def alert_text(language, style, project, ref, alert, area_names, identifiers, withheld):
    """The text one member gets when an alert is published."""
    if style == "neutral":
        return fit(t(language, "alert.neutral", project=project, ref=ref))
    parts = alert_parts(language, alert, area_names, identifiers, withheld)
    return fit(t(language, "alert.detailed", project=project, ref=ref, **parts))


def full_text(language, alert, area_names, identifiers, withheld):
    """The answer to READ <ref>: the alert in full (cut at MAX_SEGMENTS)."""
    parts = alert_parts(language, alert, area_names, identifiers, withheld)
    return fit(t(language, "alert.full", summary=alert.summary.strip(), **parts))


# --- Commands -----------------------------------------------------------------------------

COMMANDS = ("check", "read", "areas", "stop", "start", "help")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,30}$")


def _plain(text):
    """Upper case without accents or extra spaces: "  áreas " -> "AREAS"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


def parse_command(text, language="en"):
    """(command, argument) for a text that came in: command is one of COMMANDS, or
    "unknown". English keywords always work, and those of the member's language, with or
    without accents (and with or without a space before a number). A phone number alone
    is a check."""
    text = " ".join((text or "").split())
    if _PHONE_LIKE.match(text):
        return "check", text
    word, _, rest = text.partition(" ")
    word = _plain(word)
    keywords = {command: {_plain(w) for w in catalogue("en")[f"commands.{command}"]}
                | {_plain(w) for w in catalogue(language).get(f"commands.{command}", ())}
                for command in COMMANDS}
    for command, words in keywords.items():
        if word in words:
            return command, rest.strip()
    # Chinese and Thai are written without spaces: "查询07700900123" is a check too. Only
    # a number may follow, so a keyword inside an ordinary word is not a command.
    plain = _plain(text)
    for command, words in keywords.items():
        for keyword in sorted(words, key=len, reverse=True):
            after = plain[len(keyword):].strip()
            if plain.startswith(keyword) and after[:1] in tuple("+0123456789"):
                return command, after
    return "unknown", text
