"""Every screen of the app in a state worth looking at, for the language, layout and
accessibility tests (test_every_language.py): what each needs set up, how to tell it is
drawn, and how to measure a page at a phone size and text size."""
import json
import math
import re
import uuid

import requests

from .members import join, new_member, publish
from .pages import flush, put_in_outbox, report_payload, wait_for_states
from .support import wait_until

LANGUAGES = ["en", "es", "pt-BR", "ro", "bg", "pl", "hu", "th", "zh-CN", "ar"]
MODERATOR = ("demo-moderator", "redflag-demo-moderator")
# (name, viewport, default font size in px): a 360 px phone, and a 320 px phone with the
# browser's text size at 200 %.
SIZES = [("360", {"width": 360, "height": 740}, 16), ("320 at 200 %", {"width": 320, "height": 568}, 32)]
THEMES = ["light", "dark"]

SET_LANGUAGE = "async (lang) => (await import('/static/i18n.js')).setLanguage(lang)"
TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def text_size(page, px):
    """The browser's own text size setting (its default font size), as a phone's
    accessibility setting changes it: DevTools Page.setFontSizes."""
    sessions = page.context.__dict__.setdefault("_reach_cdp", {})
    if page not in sessions:
        sessions[page] = page.context.new_cdp_session(page)
        sessions[page].send("Page.enable")
    sessions[page].send("Page.setFontSizes", {"fontSizes": {"standard": px, "fixed": round(px * 13 / 16)}})


def settle(page):
    page.evaluate(TWO_FRAMES)
    page.evaluate(TWO_FRAMES)


def redraw(page, lang, screen):
    """Switch the app to `lang` as Settings does; wait until the screen is drawn again."""
    page.evaluate("() => document.querySelectorAll('main > *').forEach((el) => { el.dataset.stale = '1'; })")
    page.evaluate(SET_LANGUAGE, lang)
    page.wait_for_function("(lang) => document.documentElement.lang === lang", arg=lang)
    page.wait_for_function("() => document.querySelector('main > :not([data-stale])')")
    page.locator(screen["ready"]).first.wait_for()
    if screen.get("setup"):
        screen["setup"](page)
    settle(page)


def open_screen(page, screen):
    page.goto(screen["path"])
    page.wait_for_selector("html[data-ready]")
    page.locator(screen["ready"]).first.wait_for()


# --- The screens -------------------------------------------------------------------------

def submit_empty_report(page):
    page.locator("form.report-form button[type='submit']").click()
    page.locator(".problems:not([hidden])").wait_for()


def check_a_number(number):
    def check(page):
        page.locator("input[name='value']").fill(number)
        page.locator("form.check-form button[type='submit']").click()
        page.locator("section.result h2").wait_for()
    return check


def member_screens(page, server_app):
    """Make this page's profile a member with reports in every state and a live alert;
    the phone screens, in the order to visit them."""
    number = f"07700 9{uuid.uuid4().int % 100000:05d}"
    alert_id = publish(server_app, ["hackney"], title="Man posing as police, took money",
                       identifiers=[{"kind": "phone", "value": number, "display": "masked"}])
    join(page, new_member(server_app))
    page.context.set_offline(True)
    put_in_outbox(page, report_payload("screens"), report_payload("screens", area="atlantis"))
    page.context.set_offline(False)
    flush(page)
    wait_for_states(page, ["parked", "sent"])
    return [
        {"name": "report", "path": "/report", "ready": "form.report-form"},
        {"name": "report with problems", "path": "/report", "ready": "form.report-form",
         "setup": submit_empty_report},
        {"name": "my reports", "path": "/reports", "ready": "li.card.parked"},
        {"name": "alerts", "path": "/alerts", "ready": "li.card.alert"},
        {"name": "an alert", "path": f"/alerts?id={alert_id}", "ready": "article.alert-detail"},
        {"name": "check, with its answer", "path": "/check", "ready": "form.check-form",
         "setup": check_a_number(number)},
        {"name": "join, as a member", "path": "/join", "ready": ".member-links"},
        {"name": "settings", "path": "/settings", "ready": "#set-wipe"},
    ]


def staff_screens(page, server):
    """Log this page in as the demo moderator; a report and the staff screens."""
    report = report_payload("staff screens", area="hackney",
                            offender={"phones": ["07700 900777"], "gender": "man"})
    answer = requests.post(f"{server.url}/api/v1/sync", json={"reports": [report]}, timeout=10)
    assert answer.status_code == 200, answer.text
    page.goto("/staff")
    page.wait_for_selector("form.login-form")
    page.locator("input[name='username']").fill(MODERATOR[0])
    page.locator("input[name='password']").fill(MODERATOR[1])
    page.locator("form.login-form button[type='submit']").click()
    page.locator("nav.staff-nav").wait_for()
    return [
        {"name": "drop-in", "path": "/staff/dropin", "ready": "form.report-form"},
        {"name": "queue", "path": "/staff/queue", "ready": "form.filters, .filters"},
        {"name": "a report (staff)", "path": f"/staff/report?id={report['id']}", "ready": "main h1 + *"},
        {"name": "alert editor", "path": f"/staff/alert?report={report['id']}", "ready": "input[name='title']"},
        {"name": "alerts (staff)", "path": "/staff/alerts", "ready": "nav.staff-nav ~ h1"},
        {"name": "invites", "path": "/staff/invites", "ready": "nav.staff-nav ~ h1"},
        {"name": "texts", "path": "/staff/texts", "ready": "nav.staff-nav ~ h1"},
    ]


# --- Measuring a page --------------------------------------------------------------------

LAYOUT_PROBLEMS = """async () => {
  const found = [];
  const width = innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  scrollTo(0, 0);
  if (document.documentElement.scrollWidth > width + 1) {
    found.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${width})`);
  }
  for (const el of document.querySelectorAll('header *, nav *, main *, #first-language *')) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || box.left < -1)) found.push(`sticks out: ${name(el)}`);
    if (found.length > 8) break;
  }
  const exit = document.getElementById('quick-exit').getBoundingClientRect();
  for (const selector of ['.app-name', 'main h1']) {
    const el = document.querySelector(selector);
    if (!el) continue;
    const box = el.getBoundingClientRect();
    if (box.left < exit.right && exit.left < box.right && box.top < exit.bottom && exit.top < box.bottom) {
      found.push(`Quick exit covers ${selector}`);
    }
  }
  const nav = document.getElementById('nav');
  if (getComputedStyle(nav).display !== 'none') {
    const menu = document.documentElement.classList.contains('tabs-flow');
    const toggle = nav.querySelector('.menu-toggle');
    if (menu && !nav.classList.contains('open')) toggle.click();
    await new Promise((done) => requestAnimationFrame(done));
    // Each tab whole on the screen from side to side; below the fold only when the page
    // can scroll to it (an open menu at 200 % text is taller than a small phone).
    const end = document.documentElement.scrollHeight;
    for (const tab of nav.querySelectorAll('ul a')) {
      const box = tab.getBoundingClientRect();
      if (!box.width || box.left < -1 || box.right > width + 1 || box.top < -1 || box.bottom > Math.max(innerHeight, end) + 1
          || (!menu && box.bottom > innerHeight + 1)) {
        found.push(`tab out of the screen: ${name(tab)} ${JSON.stringify(box)}`);
      }
    }
    if (menu) toggle.click();
  }
  return found;
}"""


def layout_problems(page):
    return page.evaluate(LAYOUT_PROBLEMS)


ANSWER_HIDDEN = """(selector) => {
  const el = document.querySelector(selector);
  const box = el.getBoundingClientRect();
  const head = document.querySelector('header.bar').getBoundingClientRect();
  const nav = document.getElementById('nav');
  const bar = getComputedStyle(nav).position === 'fixed' ? nav.getBoundingClientRect().top : innerHeight;
  const top = getComputedStyle(document.querySelector('header.bar')).position === 'sticky' ? head.bottom : 0;
  return box.top < top - 1 || box.bottom > bar + 1 ? JSON.stringify({box, top, bar}) : null;
}"""


def answer_hidden(page, selector):
    """Whether an answer is (partly) under the sticky header or the fixed tab bar."""
    return page.evaluate(ANSWER_HIDDEN, selector)


# --- A pseudo-language: every string 40 % longer, accented ---------------------------------

ACCENTS = str.maketrans("aceinorsuyACEINORSUY", "àçéîñöŕšüýÀÇÉÎÑÖŔŠÜÝ")
PLACEHOLDER = re.compile(r"(\{\w+\})")


def pseudo(text):
    """"Report a bad client" -> "Ŕéƥöŕţţ à bàààd çĺĩééñţ" (40 % longer, placeholders kept)."""
    parts = PLACEHOLDER.split(text)
    out = []
    for part in parts:
        if PLACEHOLDER.fullmatch(part):
            out.append(part)
            continue
        words = []
        for word in part.split(" "):
            extra = math.ceil(len(word) * 0.4)
            words.append(word.translate(ACCENTS) + (word[-1:].translate(ACCENTS) * extra if word.isalpha() else "·" * extra))
        out.append(" ".join(words))
    return "".join(out)


def pseudo_catalogue(english):
    return json.dumps({key: pseudo(value) for key, value in english.items()}, ensure_ascii=False)


def wait_for_text(page, text):
    wait_until(lambda: text in page.locator("body").inner_text(), message=text, page=page)
