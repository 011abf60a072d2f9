"""Quick exit leaves no way Back; wipe leaves nothing on the device."""
import pytest

from .pages import installed_app, open_app, put_in_outbox, report_payload

pytestmark = pytest.mark.browser

NOTHING_LEFT = """async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).length,
    local: localStorage.length,
    session: sessionStorage.length,
})"""


def visit_screens(page):
    for name in ("My reports", "Join", "Settings", "Report"):
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        page.get_by_role("heading", level=1).wait_for()


def test_quick_exit_button_is_first_and_back_does_not_return(context, server, neutral_site):
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("html[data-ready]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quick-exit"
    assert page.evaluate("document.activeElement.textContent") == "Quick exit"
    visit_screens(page)
    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(neutral_site)
    page.go_back()
    assert not page.url.startswith(server.url)


def test_quick_exit_by_pressing_escape_three_times(context, server, neutral_site):
    page = context.new_page()
    page.goto("/reports")
    page.wait_for_selector("html[data-ready]")
    visit_screens(page)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert page.url.startswith(server.url)  # twice is not enough
    page.keyboard.press("Escape")
    page.wait_for_url(neutral_site)
    page.go_back()
    assert not page.url.startswith(server.url)


def test_wipe_leaves_nothing_behind(context, server):
    page = installed_app(context)
    other_tab = open_app(context, "/reports")
    # Something of everything: a draft, a report waiting, a member token, web storage.
    page.get_by_label("Tell us what happened").fill("A draft")
    context.set_offline(True)
    put_in_outbox(page, report_payload("wipe"))
    page.evaluate("""async () => {
        await (await import('/static/api.js')).setMemberToken('a-member-token');
        localStorage.setItem('x', '1');
        sessionStorage.setItem('y', '2');
    }""")
    page.get_by_role("navigation").get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Wipe this device").click()
    page.get_by_text("1 report is not sent yet and will be lost.").wait_for()
    page.get_by_role("button", name="Yes, wipe everything").click()
    page.get_by_role("heading", name="Wiped").wait_for()
    other_tab.get_by_role("heading", name="Wiped").wait_for()

    empty = {"databases": [], "caches": [], "workers": 0, "local": 0, "session": 0}
    assert page.evaluate(NOTHING_LEFT) == empty
    # The pages left open do not make anything again (their timers and events run on).
    context.set_offline(False)
    for tab in (page, other_tab):
        tab.evaluate("() => { dispatchEvent(new Event('online')); document.dispatchEvent(new Event('visibilitychange')); }")
    look = context.new_page()
    look.goto("/healthz")
    assert look.evaluate(NOTHING_LEFT) == empty
    assert page.evaluate(NOTHING_LEFT) == empty
