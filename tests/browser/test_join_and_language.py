"""Joining with an invite code, and the app's language."""
import uuid

import pytest

from .pages import installed_app, submit_report, wait_for_states
from .support import wait_until

pytestmark = pytest.mark.browser

DEMO_INVITE = "DEMO-2026"  # made by `flask demo load` on a new database; single use
TOKEN = "async () => (await import('/static/api.js')).memberToken()"


def test_join_by_link_and_reports_carry_the_member_token(context, server):
    page = installed_app(context, "/join")
    page.get_by_label("Invite code").fill("NOT-A-CODE")
    page.get_by_role("button", name="Join").click()
    page.locator("p.status").filter(has_text="code").wait_for()  # the server's message
    assert page.evaluate(TOKEN) is None

    page.goto(f"/join#{DEMO_INVITE}")  # as from a QR code
    page.get_by_text("Welcome. This phone is now a member.").wait_for()
    assert page.url == f"{server.url}/join"  # the code does not stay in the address bar
    assert page.evaluate(TOKEN)

    tag = f"member-{uuid.uuid4().hex[:12]}"
    submit_report(page, f"Posed as police. {tag}", types=("posing_as_police",))
    wait_for_states(page, ["sent"])
    [report] = wait_until(lambda: server.reports(tag), message="the report")
    assert report["member_id"] is not None


def test_language_follows_the_browser_and_can_be_changed(new_context):
    context = new_context(locale="es-ES")
    page = installed_app(context)
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Reportar a un mal cliente"
    assert page.locator("#quick-exit").inner_text() == "Salida rápida"

    page.get_by_role("navigation").get_by_role("link", name="Ajustes").click()
    page.get_by_label("Idioma de la aplicación").select_option("en")
    page.get_by_role("heading", name="Settings", level=1).wait_for()
    assert page.locator("#quick-exit").inner_text() == "Quick exit"
    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.get_by_role("heading", level=1).inner_text() == "Settings"
    assert page.locator("html").get_attribute("lang") == "en"
