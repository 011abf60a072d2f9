"""Every screen in every language: axe-core finds no serious or critical problem in either
theme, at 360 px and at 320 px with text at 200 %; the layout holds (nothing sideways,
every tab reachable on the screen, Quick exit over nothing) at 320 px / 200 % and at
360 px with a 32 px minimum font; a pseudo-language 40 % longer fits every screen; an
answer is scrolled clear of the header and the tab bar; the server's English messages
never reach a translated screen; only English and the chosen language are kept offline.

One browser page walks the screens: a language is switched in place (as Settings does),
the theme and the sizes are switched without a reload."""
import json
import time

import pytest

from .axe import serious_violations
from .pages import fill_report, installed_app, report_payload
from .screens import (
    LANGUAGES,
    SIZES,
    THEMES,
    answer_hidden,
    layout_problems,
    member_screens,
    open_screen,
    pseudo,
    pseudo_catalogue,
    redraw,
    settle,
    staff_screens,
    text_size,
    wait_for_text,
)
from .support import ROOT, wait_until

pytestmark = pytest.mark.browser


def walk(page, screens, look, languages=LANGUAGES):
    """For each screen and language: `look(page, screen, lang)` -> {label: problems}."""
    found = {}
    for screen in screens:
        open_screen(page, screen)
        for lang in languages:
            redraw(page, lang, screen)
            for label, problems in look(page, screen, lang).items():
                if problems:
                    found[f"{screen['name']} / {lang} / {label}"] = problems
    return found


def axe_and_layout(page, screen, lang):
    seen = {}
    for size, viewport, px in SIZES:
        page.set_viewport_size(viewport)
        text_size(page, px)
        settle(page)
        if px > 16:
            seen[f"layout {size}"] = layout_problems(page)
        for theme in THEMES:
            page.emulate_media(color_scheme=theme)
            seen[f"axe {size} {theme}"] = serious_violations(page)
    page.emulate_media(color_scheme="light")
    return seen


def test_every_screen_in_every_language_passes_axe_and_holds_its_layout(context, server, server_app):
    started = time.monotonic()
    page = installed_app(context)
    screens = member_screens(page, server_app) + staff_screens(page, server)
    found = walk(page, screens, axe_and_layout)
    print(f"\n{len(screens)} screens x {len(LANGUAGES)} languages x {len(THEMES)} themes x "
          f"{len(SIZES)} sizes in {time.monotonic() - started:.0f} s")
    assert found == {}


def test_the_layout_holds_with_a_32px_minimum_font(persistent_browser, server, server_app, tmp_path):
    # Chromium's own setting, as a person sets it: in the profile's preferences.
    default = tmp_path / "profile" / "Default"
    default.mkdir(parents=True)
    (default / "Preferences").write_text(json.dumps(
        {"webkit": {"webprefs": {"minimum_font_size": 32, "minimum_logical_font_size": 32}}}))
    context = persistent_browser(viewport={"width": 360, "height": 740})
    page = installed_app(context)
    assert page.evaluate("() => getComputedStyle(document.querySelector('.hint, .lead, p')).fontSize") == "32px"
    screens = member_screens(page, server_app) + staff_screens(page, server)
    found = walk(page, screens, lambda page, screen, lang: {"layout": layout_problems(page)})
    assert found == {}


def test_a_pseudo_language_40_percent_longer_fits_every_screen(new_context, server, server_app):
    """Strings 40 % longer and accented (as German or Hungarian run), served by the server
    in place of Polish: every screen at 320 px with text at 200 % still fits, with no word
    cut off the side."""
    english = json.loads((ROOT / "web" / "locales" / "en.json").read_text(encoding="utf-8"))
    polish = "web/locales/pl.json"
    real = (server.webroot / polish).read_bytes()
    server.write_web_file(polish, pseudo_catalogue(english))
    try:
        context = new_context(viewport={"width": 320, "height": 568})
        page = installed_app(context)
        text_size(page, 32)
        screens = member_screens(page, server_app) + staff_screens(page, server)

        found = walk(page, screens, lambda page, screen, lang: {"layout": layout_problems(page)},
                     languages=["pl"])
        assert pseudo(english["nav.report"]) in page.evaluate("() => document.getElementById('nav').textContent")
    finally:
        server.write_web_file(polish, real)
    assert found == {}


@pytest.mark.parametrize("size", SIZES, ids=[size for size, _, _ in SIZES])
def test_a_check_answer_is_scrolled_clear_of_the_header_and_tab_bar(context, server_app, size):
    """The answer to a check once started under the fixed tab bar: only a red line showed,
    and a worker could think there was no warning."""
    _, viewport, px = size
    page = installed_app(context)
    screens = member_screens(page, server_app)
    check = next(screen for screen in screens if screen["name"].startswith("check"))
    page.set_viewport_size(viewport)
    text_size(page, px)
    for lang in ("en", "ar", "th"):
        open_screen(page, check)
        redraw(page, lang, check)  # checks a number: the answer is drawn
        assert answer_hidden(page, "section.result h2") is None, lang
    # A report's problems too, and the line that says it was saved.
    open_screen(page, screens[0])
    page.locator("form.report-form button[type='submit']").click()
    page.locator(".problems:not([hidden])").wait_for()
    settle(page)
    assert answer_hidden(page, ".problems h2") is None


def test_no_server_message_reaches_a_translated_screen(new_context, server):
    """The server's `message` (English, for developers) and its field messages are never
    shown: the app says it in the reader's language, from the error code or the field."""
    server_words = "SERVER-ENGLISH-TEXT"
    context = new_context(locale="es-ES")
    context.route("**/api/v1/members/redeem", lambda route: route.fulfill(
        status=404, content_type="application/json", body=json.dumps(
            {"code": 404, "status": "Not Found", "error": "invite_not_valid", "message": server_words})))
    context.route("**/api/v1/checks", lambda route: route.fulfill(
        status=422, content_type="application/json", body=json.dumps(
            {"code": 422, "status": "Unprocessable Entity", "error": "invalid", "message": server_words,
             "errors": {"json": {"value": [server_words]}}})))
    page = installed_app(context, "/join")
    page.locator("input[name='code']").fill("NOT-A-CODE")
    page.locator("form.join-form button[type='submit']").click()
    wait_for_text(page, "Este código no vale")
    assert server_words not in page.locator("body").inner_text()

    # A report the server refuses: parked with the server's own words, shown in Spanish.
    page.evaluate("async (r) => (await import('/static/outbox.js')).save(r)",
                  report_payload("server words", area="atlantis"))
    page.evaluate("async () => (await import('/static/outbox.js')).flush()")
    wait_until(lambda: page.evaluate(
        "async () => (await (await import('/static/outbox.js')).list())[0].state") == "parked",
        message="a parked report", page=page)
    [item] = page.evaluate("async () => (await import('/static/outbox.js')).list()")
    [message] = item["errors"]["area"]
    for path in ("/reports", f"/report?fix={item['id']}"):
        page.goto(path)
        wait_for_text(page, "Zona:")
        shown = page.locator("body").inner_text()
        assert message not in shown and "Unknown area" not in shown, path

    # A member's check the server finds wrong: the field, in Spanish.
    page.evaluate("async () => (await import('/static/api.js')).setMemberToken('member-token-for-the-page')")
    page.goto("/check")
    page.locator("input[name='value']").fill("0770")
    page.locator("form.check-form button[type='submit']").click()
    wait_for_text(page, "Revisa lo que escribiste.")
    assert server_words not in page.locator("body").inner_text()


def test_first_open_offers_every_language_and_keeps_only_the_chosen_one_offline(context):
    page = installed_app(context)
    picker = page.locator("#first-language")
    assert picker.is_visible()
    assert picker.locator("button[lang='th']").inner_text() == "ไทย"
    picker.locator("button[lang='th']").click()
    page.wait_for_function("() => document.documentElement.lang === 'th'")
    assert picker.is_hidden()
    page.get_by_role("heading", level=1, name="แจ้งเหตุลูกค้าไม่ดี").wait_for()
    # English (the fallback) and Thai are kept offline; no other language.
    cached = """async () => {
        const found = [];
        for (const key of await caches.keys()) {
            for (const request of await (await caches.open(key)).keys()) found.push(new URL(request.url).pathname);
        }
        return found.filter((path) => path.startsWith('/static/locales/')).sort();
    }"""
    wait_until(lambda: page.evaluate(cached) == ["/static/locales/en.json", "/static/locales/th.json"],
               message="Thai in the offline cache", page=page)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.locator("html").get_attribute("lang") == "th"
    assert not page.locator("#first-language").is_visible()  # asked once only
    page.get_by_role("heading", level=1, name="แจ้งเหตุลูกค้าไม่ดี").wait_for()


def test_arabic_runs_right_to_left_and_dates_follow_the_region(context):
    page = installed_app(context, "/report")
    redraw(page, "ar", {"ready": "form.report-form"})
    assert page.locator("html").get_attribute("dir") == "rtl"
    # The start of a line is on the right: the first step's heading ends at the right edge.
    box = page.locator("section.step h2").first.bounding_box()
    main = page.locator("main").bounding_box()
    assert main["x"] + main["width"] - (box["x"] + box["width"]) < 40
    dates = page.evaluate("""async () => {
        const i18n = await import('/static/i18n.js');
        const out = {};
        for (const lang of ['en', 'pl', 'ar']) {
            await i18n.setLanguage(lang);
            out[lang] = [i18n.formatDate('2026-11-30'), i18n.formatDateTime('2026-11-30T16:10:00Z'), i18n.t('reports.waiting', {n: 1200})];
        }
        return out;
    }""")
    # A UK deployment: day before month, 24-hour clock, Latin digits in every language.
    assert dates["en"][0] == "30 Nov 2026" and "16:10" in dates["en"][1] and "1,200" in dates["en"][2]
    assert dates["pl"][0].startswith("30 lis") and "1200" in dates["pl"][2].replace("\u00a0", "")
    assert "30" in dates["ar"][0] and "2026" in dates["ar"][0] and "1,200" in dates["ar"][2].replace("٬", ",")


def test_quick_exit_deletes_the_half_written_report_unless_kept(context, server):
    page = installed_app(context)
    page.locator("#first-language [data-action='keep']").click()
    fill_report(page, "He hit me last night near the station")
    wait_until(lambda: page.evaluate(
        "async () => Boolean(await (await import('/static/db.js')).get('kv', 'draft'))"),
        message="the draft saved", page=page)
    page.locator("#quick-exit").click()
    page.wait_for_url(lambda url: not url.startswith(server.url))
    page.goto(f"{server.url}/report")
    page.wait_for_selector("html[data-ready]")
    assert page.locator("textarea[name='description']").input_value() == ""
    assert "He hit me" not in page.locator("body").inner_text()

    # Kept on purpose (Settings): the draft is still there after Quick exit.
    page.goto("/settings")
    page.wait_for_selector("html[data-ready]")
    page.locator("input[name='keep-draft']").check()
    page.locator("section[aria-labelledby='set-exit']").get_by_text("Saved.").wait_for()
    fill_report(page, "Kept on purpose")
    wait_until(lambda: page.evaluate(
        "async () => ((await (await import('/static/db.js')).get('kv', 'draft')) || {fields: {}}).fields.description"),
        message="the draft saved", page=page)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: not url.startswith(server.url))
    page.goto(f"{server.url}/report")
    page.wait_for_selector("html[data-ready]")
    assert page.locator("textarea[name='description']").input_value() == "Kept on purpose"
