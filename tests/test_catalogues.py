"""The translation catalogues: every language of the app (web/locales/) and of the printed
pages (server/locales/) has every key of English, with the same {placeholders}, and a
plural key has every form its language's plural rules pick (the CLDR categories below).
The pseudo-locale test (tests/browser/test_layout.py) renders every screen with strings
40 % longer; this file checks the words are all there."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web" / "locales"
SERVER = ROOT / "server" / "locales"
LANGUAGES = ["en", "es", "pt-BR", "ro", "bg", "pl", "hu", "th", "zh-CN", "ar"]
# CLDR plural categories each language's Intl.PluralRules picks for whole numbers
# ("many" in Spanish and Portuguese is only for millions: `_other` covers it).
PLURALS = {
    "en": {"one", "other"}, "es": {"one", "other"}, "pt-BR": {"one", "other"},
    "ro": {"one", "few", "other"}, "bg": {"one", "other"}, "pl": {"one", "few", "many", "other"},
    "hu": {"one", "other"}, "th": {"other"}, "zh-CN": {"other"},
    "ar": {"zero", "one", "two", "few", "many", "other"},
}
ALL_FORMS = {"zero", "one", "two", "few", "many", "other"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(folder, language):
    path = folder / f"{language}.json"
    text = path.read_text(encoding="utf-8")
    pairs = json.loads(text, object_pairs_hook=lambda items: items)
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"{path.name}: a key is written twice"
    return dict(pairs)


def plural_bases(english):
    """The keys English writes as plurals: "reports.waiting" for reports.waiting_one/_other."""
    return {key[: -len("_other")] for key in english if key.endswith("_other")}


def shape(catalogue, bases):
    """{base key: set of plural forms, or None for a plain key}."""
    found = {}
    for key in catalogue:
        base, _, form = key.rpartition("_")
        if base in bases and form in ALL_FORMS:
            found[base] = (found.get(base) or set()) | {form}
        else:
            found.setdefault(key, None)
    return found


def placeholders(text):
    return sorted(set(PLACEHOLDER.findall(text)))


@pytest.mark.parametrize("folder", [WEB, SERVER], ids=["app", "printed pages"])
@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_language_has_every_key_and_placeholder(folder, language):
    english = load(folder, "en")
    other = load(folder, language)
    bases = plural_bases(english)
    english_shape, other_shape = shape(english, bases), shape(other, bases)
    missing = sorted(set(english_shape) - set(other_shape))
    extra = sorted(set(other_shape) - set(english_shape))
    assert not missing, f"{language} lacks {missing}"
    assert not extra, f"{language} has keys English does not: {extra}"
    for base, forms in english_shape.items():
        if forms is None:
            assert other_shape[base] is None, f"{language}: {base} must not be a plural"
            assert placeholders(other[base]) == placeholders(english[base]), (language, base)
            assert other[base].strip(), f"{language}: {base} is empty"
            continue
        assert other_shape[base] is not None, f"{language}: {base} must be a plural"
        needed = PLURALS[language]
        assert needed <= other_shape[base], f"{language}: {base} lacks {sorted(needed - other_shape[base])}"
        wanted = placeholders(english[f"{base}_other"])
        for form in other_shape[base]:
            # "one" may spell the number out ("Un report"), the others must show it.
            got = placeholders(other[f"{base}_{form}"])
            assert set(got) <= set(wanted), (language, base, form)
            if form == "other":
                assert got == wanted, (language, base, form)


@pytest.mark.parametrize("folder", [WEB, SERVER], ids=["app", "printed pages"])
def test_english_plurals_have_one_and_other(folder):
    english = load(folder, "en")
    for base, forms in shape(english, plural_bases(english)).items():
        assert forms is None or forms == {"one", "other"}, base


def test_every_app_language_is_listed_in_i18n_js():
    source = (ROOT / "web" / "i18n.js").read_text(encoding="utf-8")
    block = re.search(r"export const LANGUAGES = \{(.*?)\};", source, re.S).group(1)
    listed = re.findall(r"^\s*'?([\w-]+)'?:", block, re.M)
    assert listed == LANGUAGES
    assert sorted(p.stem for p in WEB.glob("*.json")) == sorted(LANGUAGES)
    # (server/locales/sms-*.json are the text-message catalogues, a set of their own.)
    assert sorted(p.stem for p in SERVER.glob("*.json") if not p.stem.startswith("sms-")) == sorted(LANGUAGES)


def test_glossary_has_every_language():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for language in LANGUAGES[1:]:
        assert f"## {language}" in glossary, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_alert_and_check_are_different_words(language):
    """Spanish once had "Avisar", "Mis avisos" and "Avisos" for report, my reports and
    alerts: a worker could not tell them apart. No tab may share a word stem with the
    alerts tab or the check tab."""
    words = load(WEB, language)
    tabs = {key: words[f"nav.{key}"] for key in ("report", "reports", "alerts", "check", "join", "settings")}
    assert len(set(tabs.values())) == len(tabs), tabs

    def stems(text):
        return {word[:4].lower() for word in re.findall(r"\w+", text) if len(word) >= 4}

    for key in ("alerts", "check"):
        for other, text in tabs.items():
            if other != key:
                assert not stems(tabs[key]) & stems(text), (language, key, other)


# Values a language rightly writes as English does: names, and words that are the same.
SAME_AS_ENGLISH = {
    "app.name",  # the app's name, in every language
    ("ro", "role.moderator"), ("ro", "month.8"), ("ro", "police.incident"),
    ("pl", "vehicle.model"),
}
# New English keys are sometimes copied into the other catalogues until a translator
# gets to them; a few may wait, a screenful may not (138 once did, in nine languages).
HANDFUL = 5


def words_only(text):
    """The text without its {placeholders}, digits and punctuation: "" for "{severity}: {area}"."""
    return re.sub(r"[\W\d_]+", "", PLACEHOLDER.sub("", text))


def still_english(english, other, language):
    """Keys of `other` whose value is English's own words ("{n} disputes" in a plural form too)."""
    bases = plural_bases(english)
    found = []
    for key, text in other.items():
        base, _, form = key.rpartition("_")
        if base in bases and form in ALL_FORMS:
            source = {english[f"{base}_one"], english[f"{base}_other"]}
        else:
            source = {english.get(key)}
        if text in source and words_only(text) and not {key, (language, key)} & SAME_AS_ENGLISH:
            found.append(key)
    return found


@pytest.mark.parametrize("folder", [WEB, SERVER], ids=["app", "printed pages"])
@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_no_language_is_left_in_english(folder, language):
    untranslated = still_english(load(folder, "en"), load(folder, language), language)
    assert len(untranslated) <= HANDFUL, f"{language} still has English for {untranslated}"


def test_a_catalogue_copied_from_english_is_caught():
    english = load(WEB, "en")
    copied = dict(load(WEB, "es"), **{key: english[key] for key in list(english)[:40]})
    assert len(still_english(english, copied, "es")) > HANDFUL
    assert still_english(english, load(WEB, "ro"), "ro") == []


NO_SCREEN_MEETS = {
    "sms_callback_bad", "sms_gateway_secret_wrong", "sms_gateway_unknown",
    "expectation_failed", "uri_too_long", "headers_too_large", "method_not_allowed",
    "not_implemented", "staff_route_undeclared", "unsupported_media_type",
}


def test_every_error_code_has_words_in_english():
    """The app shows error.<code> for the server's `error` (web/dom.js, web/staff/staff.js,
    web/screens/join.js): a new code in server/errors.py needs its words here, and the test
    above then asks every other language for them. NO_SCREEN_MEETS: only the SMS gateway
    calls its callback; browsers never send Expect, oversized lines or headers, or methods
    the app does not use; every staff route declares its rule (a test checks); the app
    sends every body as JSON."""
    from server.errors import CODES

    assert NO_SCREEN_MEETS <= set(CODES), sorted(NO_SCREEN_MEETS - set(CODES))
    english = load(WEB, "en")
    missing = sorted(code for code in CODES
                     if code not in NO_SCREEN_MEETS and f"error.{code}" not in english)
    assert missing == [], f"no words in web/locales/en.json for error codes {missing}"
