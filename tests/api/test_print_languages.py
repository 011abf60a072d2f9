"""The printed pages (bulletin, police pack, statistics) in the app's ten languages:
?lang= picks one, else Accept-Language, else English; Arabic runs right to left; picked
values and dates are words in that language, never codes; a filter error never shows
the server's English message."""
import re

import pytest

from server.pages import LANGUAGES, plural_form

from factories import assert_print_page, make_alert
from factories import send_full_report as send

PAGES = ("/staff/print/bulletin", "/staff/print/police-pack", "/staff/print/stats")


def lang_of(html):
    return re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html).groups()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_prints_in_every_language(moderator, areas, client, lang):
    make_alert("Hackney live", severity="dangerous")
    send(client, consent={"publish": True, "police": "anonymous_intelligence"})
    for page in PAGES:
        html = assert_print_page(moderator.get(f"{page}?lang={lang}"))
        assert lang_of(html) == (lang, "rtl" if lang == "ar" else "ltr")
        assert f'<option value="{lang}" lang="{lang}" selected>' in html


def test_a_bulletin_in_thai_and_in_arabic(moderator, areas):
    make_alert("Hackney live", severity="dangerous")
    thai = assert_print_page(moderator.get("/staff/print/bulletin?lang=th"))
    assert "อันตราย" in thai and "ปล้น" in thai  # dangerous, robbery
    assert "Dangerous" not in thai and "Safety notes" not in thai
    arabic = assert_print_page(moderator.get("/staff/print/bulletin?lang=ar"))
    assert lang_of(arabic) == ("ar", "rtl") and "خطير" in arabic


def test_the_browser_language_when_none_is_chosen(moderator, areas):
    html = assert_print_page(moderator.get("/staff/print/bulletin",
                                           headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}))
    assert lang_of(html)[0] == "pl"
    html = assert_print_page(moderator.get("/staff/print/bulletin",
                                           headers={"Accept-Language": "de-DE,de;q=0.9"}))
    assert lang_of(html)[0] == "en"
    html = assert_print_page(moderator.get("/staff/print/bulletin?lang=xx",
                                           headers={"Accept-Language": "pt-PT"}))
    assert lang_of(html)[0] == "pt-BR"


def test_the_police_pack_prints_words_not_codes(moderator, areas, client):
    send(client, occurred_on="2026-03-05", consent={"publish": True, "police": "full_report"},
         offender={"gender": "man", "age_range": "35-44", "height": "tall", "build": "heavy"})
    send(client, occurred_on="2026-03-05", consent={"publish": True, "police": "anonymous_intelligence"})
    html = assert_print_page(moderator.get("/staff/print/police-pack"))
    cells = [cell.strip() for cell in re.findall(r"<dd[^>]*>(.*?)</dd>", html, re.S)]
    assert "5 March 2026" in cells and "2026-03-05" not in html
    assert "2 March 2026 to 8 March 2026" in cells  # the week, for anonymous intelligence
    assert {"Man", "35 to 44", "Tall", "Heavy"} <= set(cells)
    assert not {"man", "35-44", "tall", "heavy"} & set(cells)
    romanian = assert_print_page(moderator.get("/staff/print/police-pack?lang=ro"))
    assert "5 martie 2026" in romanian and "Bărbat" in romanian


def test_statistics_say_in_words_when_every_count_is_hidden(moderator, areas, client):
    send(client, occurred_on="2026-03-05")  # one report: every cell is "<5"
    html = assert_print_page(moderator.get("/staff/print/stats"))
    assert "Every count here is under 5" in html
    assert "<svg" not in html and 'class="bar"' not in html


def test_a_filter_error_is_in_the_page_language_without_the_server_message(moderator, areas):
    html = assert_print_page(moderator.get("/staff/print/stats?from=soon&lang=es"), status=422)
    errors = re.search(r'<section class="errors".*?</section>', html, re.S).group(0)
    assert "Not a valid" not in errors
    assert "Desde" in errors or "desde" in errors.lower()


def test_plural_forms_match_the_apps_rules():
    # The same categories Intl.PluralRules gives in the browser for whole numbers.
    assert [plural_form("pl", n) for n in (1, 2, 5, 12, 22, 25)] == [
        "one", "few", "many", "many", "few", "many"]
    assert [plural_form("ar", n) for n in (0, 1, 2, 3, 11, 100)] == [
        "zero", "one", "two", "few", "many", "other"]
    assert [plural_form("ro", n) for n in (1, 2, 19, 20, 101)] == ["one", "few", "few", "other", "few"]
    assert plural_form("th", 1) == plural_form("zh-CN", 1) == "other"
