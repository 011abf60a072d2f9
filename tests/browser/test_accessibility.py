"""axe-core (from npm) finds no serious or critical problem on any screen."""
import pytest

from .axe import serious_violations
from .pages import flush, installed_app, put_in_outbox, report_payload, wait_for_states

pytestmark = pytest.mark.browser

def test_every_screen_passes_axe(context):
    page = installed_app(context)
    # My reports with one report in each state.
    context.set_offline(True)
    put_in_outbox(page, report_payload("axe"), report_payload("axe", area="atlantis"))
    context.set_offline(False)
    flush(page)
    wait_for_states(page, ["parked", "sent"])
    context.set_offline(True)
    put_in_outbox(page, report_payload("axe"))

    found = {}
    page.goto("/report")
    page.wait_for_selector("html[data-ready]")
    found["report"] = serious_violations(page)
    page.get_by_text("Describe the person").click()
    page.get_by_label("I would like someone from the project to contact me").check()
    page.get_by_role("button", name="Save and send").click()
    page.locator(".problems").wait_for()
    found["report, all open, with problems"] = serious_violations(page)

    for path in ("/reports", "/join", "/settings"):
        page.goto(path)
        page.wait_for_selector("html[data-ready]")
        found[path] = serious_violations(page)
    page.get_by_role("button", name="Wipe this device").click()
    found["settings, wipe question"] = serious_violations(page)

    page.goto("/reports")
    page.wait_for_selector("li.card.parked")
    page.get_by_role("link", name="Fix it").click()
    page.locator(".problems").wait_for()
    found["fix a report"] = serious_violations(page)
    assert found == {key: [] for key in found}
