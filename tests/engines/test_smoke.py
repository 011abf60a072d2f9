"""Smoke tests in Firefox and WebKitGTK: what a worker needs from the app, in each engine.

Each test runs once per engine (the `engine` fixture). "Offline" here is the server
stopped: the same for both engines and for the service worker, with no engine-specific
network emulation. Every test ends with no error in the page's console.
"""
import uuid

import pytest

from .drivers import Driver
from browser.members import new_member, publish

pytestmark = pytest.mark.engines

READY = "async () => document.documentElement.dataset.ready === 'true'"
# What app.js imports once the first screen is ready. Navigating while these load makes
# Firefox log the aborted, worker-served request as an error, so a test waits for them.
SETTLED = """async () => { await Promise.all(['outbox.js', 'update.js', 'notifications.js',
    'alerts-store.js'].map((m) => import(`/static/${m}`))); return true; }"""
INSTALLED = """async () => navigator.serviceWorker.controller !== null
    && (await caches.keys()).some((k) => k.startsWith('redflag-shell-'))
    && Boolean(await (await import('/static/db.js')).get('kv', 'areas'))"""
H1 = "async () => document.querySelector('h1')?.textContent"
OUTBOX = "async () => (await import('/static/outbox.js')).list()"
MAIN_TEXT = "async () => document.querySelector('main').innerText"
MAIN_TEXT_WHEN = "async (selector) => document.querySelector(selector)?.textContent && document.querySelector('main').innerText"
VISIBLE = """async (selector) => { const el = document.querySelector(selector);
    return el && el.getClientRects().length ? el.innerText : null; }"""
# The shown icons, and those of them that draw nothing (their symbol not found in the page's
# hidden sprite, server/web.py).
ICONS = """async () => { const shown = [...document.querySelectorAll('svg.icon use')]
    .filter((use) => use.closest('svg').getClientRects().length);
    return [shown.length, shown.filter((use) => !(use.getBBox().width > 0)).map((use) => use.getAttribute('href'))]; }"""
NO_BACKGROUND_SYNC = ("This browser sends waiting reports only while this app is open. "
                      "When you have signal, open the app again.")
NO_PUSH = "This browser cannot show notifications."
NO_PERSIST = "This browser cannot promise to keep saved reports."

# The report form, filled in as the browser tests do (pickers, then text), and sent.
FILL_AND_SEND = """async (description) => {
    const form = document.querySelector('main form');
    const pick = (selector) => { const el = form.querySelector(selector); if (!el.checked) el.click(); };
    pick("input[name='incident_types'][value='robbery']");
    const text = form.querySelector("[name='description']");
    text.value = description;
    text.dispatchEvent(new Event('input', {bubbles: true}));
    const area = form.querySelector("select[name='area']");
    area.value = 'hackney';
    area.dispatchEvent(new Event('change', {bubbles: true}));
    pick("input[name='publish'][value='yes']");
    pick("input[name='police'][value='none']");
    form.querySelector("button[type='submit']").click();
    return true;
}"""


def open_app(engine: Driver, path="/"):
    engine.goto(path)
    engine.wait(READY, message="the app to start")
    engine.wait(SETTLED, message="the modules loaded after the first screen")


def install(engine: Driver):
    open_app(engine)
    engine.wait(INSTALLED, timeout=30, message="the service worker, the shell cache and the areas")


def no_console_errors(engine: Driver):
    assert engine.console_errors() == []


def test_shell_offline_and_a_report_saved_while_the_server_is_down_arrives_once(engine, up):
    tag = f"{engine.name}-{uuid.uuid4().hex[:12]}"
    install(engine)

    up.stop()
    # The shell from the service worker's cache: every worker screen by its address.
    for path, title in {"/report": "Report a bad client", "/reports": "My reports",
                        "/settings": "Settings"}.items():
        open_app(engine, path)
        assert engine.evaluate(H1) == title, path
    # Settings says what this engine cannot do: WebKitGTK has no Push and no persistent
    # storage; Firefox has both.
    text = engine.wait(MAIN_TEXT_WHEN, "#set-storage ~ .persist-state", message="Settings drawn")
    unsupported = {NO_PUSH in text, NO_PERSIST in text}
    assert unsupported == {engine.name == "webkit"}, text

    open_app(engine, "/report")
    shown, blank = engine.evaluate(ICONS)
    assert shown >= 16 and blank == []
    engine.evaluate(FILL_AND_SEND, f"Took the money back at knifepoint. {tag}")
    engine.wait("async () => location.pathname === '/reports'", message="My reports after saving")
    [item] = engine.evaluate(OUTBOX)
    assert item["state"] == "waiting"
    engine.wait("async () => !!document.querySelector('main').innerText.includes('1 report waiting to send')",
                message="the count of waiting reports")
    # Neither engine has Background Sync: My reports says the report goes when the app is open.
    assert engine.evaluate("async () => 'SyncManager' in self") is False
    assert engine.evaluate(VISIBLE, ".no-background-sync") == NO_BACKGROUND_SYNC
    assert up.report_ids(tag) == []

    # The server is back; the worker closes the app and opens it again later.
    up.start()
    engine.new_tab()
    open_app(engine, "/reports")
    engine.wait("async () => (await (await import('/static/outbox.js')).list()).every((i) => i.state === 'sent')",
                message="the report sent")
    assert up.report_ids(tag) == [item["id"]]
    engine.wait("async () => document.querySelector('.no-background-sync').hidden", message="the line hidden")
    # Opened once more: nothing is sent twice.
    engine.new_tab()
    open_app(engine, "/reports")
    engine.wait("async () => !!document.querySelector('main').innerText.includes('Status: received.')",
                message="the report's status")
    assert up.report_ids(tag) == [item["id"]]
    assert [i["id"] for i in engine.evaluate(OUTBOX)] == [item["id"]]
    no_console_errors(engine)


def test_an_alert_is_readable_with_the_server_down(engine, up, engine_app):
    install(engine)
    token = new_member(engine_app)
    engine.evaluate("async (token) => (await import('/static/api.js')).setMemberToken(token)", token)
    engine.evaluate("async () => (await import('/static/areas.js')).setMyAreas(['havering'])")
    title = f"Grey van {engine.name} {uuid.uuid4().hex[:6]}"
    alert_id = publish(engine_app, ["havering"], title=title, identifiers=[
        {"kind": "phone", "value": "07700 900123", "display": "full"}])

    open_app(engine, "/alerts")
    engine.wait("async () => !!document.querySelector(\".sync[data-synced='ok']\")", message="the feed synced")
    up.stop()
    engine.new_tab()
    open_app(engine, "/alerts")
    engine.wait("async () => !!document.querySelector(\".sync[data-synced='offline']\")",
                message="the feed from the phone")
    card = f"li.card[data-id='{alert_id}']"
    assert title in engine.evaluate("async (card) => document.querySelector(card).innerText", card)
    engine.evaluate("async (card) => { document.querySelector(`${card} a`).click(); return true; }", card)
    engine.wait("async (title) => document.querySelector('h1')?.textContent === title", title,
                message="the alert opened")
    text = engine.evaluate(MAIN_TEXT)
    assert "07700 900123" in text and "Robbery" in text
    no_console_errors(engine)


def test_arabic_is_right_to_left_and_fits_the_narrowest_window(engine, up):
    install(engine)
    open_app(engine, "/settings")
    engine.evaluate("""async () => { const select = document.querySelector("select[name='language']");
        select.value = 'ar'; select.dispatchEvent(new Event('change', {bubbles: true})); return true; }""")
    engine.wait("async () => document.documentElement.lang === 'ar' && document.documentElement.dir === 'rtl'",
                message="the app in Arabic")
    # As narrow as the engine allows (WebKitGTK's MiniBrowser stops at about 447 px).
    engine.window_size(320, 640)
    width = engine.evaluate("async () => document.documentElement.clientWidth")
    assert width <= 460
    for path in ("/report", "/reports", "/alerts", "/settings"):
        open_app(engine, path)
        assert engine.evaluate("async () => document.documentElement.dir") == "rtl", path
        overflow = engine.evaluate("""async () => ({scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth})""")
        assert overflow["scroll"] <= overflow["client"], (path, overflow)
    no_console_errors(engine)
