"""Follow-up without an account: a worker asks for support offline, the report syncs, a
caseworker finds the case in the Support queue and writes back; the worker sees "a message
from the project" in My reports, reads it and replies with nothing but the receipt; the
caseworker sees the reply. Notes stay staff-only."""
import uuid

import pytest

from .axe import serious_violations
from .pages import LAPTOP, fill_report, installed_app, log_in, outbox, wait_for_states

pytestmark = pytest.mark.browser


def test_a_worker_and_a_caseworker_talk_through_the_receipt(persistent_browser, new_context, server):
    tag = uuid.uuid4().hex[:10]
    phone = persistent_browser()
    page = installed_app(phone)
    phone.set_offline(True)
    fill_report(page, f"He followed me home. {tag}", types=("harassment_or_stalking",))
    page.get_by_label("A landlord").check()
    page.get_by_label("Because I am a sex worker").check()
    page.get_by_label("Share that, and the police may ask the project to contact me").check()
    page.get_by_label("I would like someone from the project to contact me").check()
    page.get_by_label("Name to use").fill("Roxy")
    page.get_by_role("button", name="Save and send").click()
    page.wait_for_url("**/reports?saved=1")
    (waiting,) = outbox(page)
    assert waiting["report"]["perpetrator"] == "landlord"
    assert waiting["report"]["targeted_because"] == ["sex_work"]
    phone.set_offline(False)
    page.evaluate("async () => (await import('/static/outbox.js')).flush()")
    wait_for_states(page, ["sent"])
    (item,) = outbox(page)

    staff = new_context(viewport=LAPTOP).new_page()
    staff.goto("/staff")
    staff.wait_for_selector("html[data-ready]")
    log_in(staff)
    staff.wait_for_url("**/staff/queue")
    staff.get_by_role("link", name="Support").click()
    staff.wait_for_url("**/staff/support")
    row = staff.locator("ul.rows > li").filter(has_text="Harassment or stalking").first
    row.wait_for()
    found = {"support": serious_violations(staff)}
    row.get_by_role("link").click()
    staff.wait_for_url("**/staff/case?id=*")
    staff.get_by_role("button", name="Assign to me").click()
    staff.get_by_text("Assigned to you.").wait_for()
    assert "Roxy" in staff.locator("#c-contact").locator("..").inner_text()
    staff.get_by_label("Add a note").fill(f"Staff only note {tag}")
    staff.get_by_role("button", name="Save note").click()
    staff.get_by_text("Note saved.").wait_for()
    words = f"Hello from the project, are you safe? {tag}"
    staff.get_by_label("Write to the reporter").fill(words)
    staff.get_by_role("button", name="Send", exact=True).click()
    staff.get_by_text("Message sent.").wait_for()
    found["case"] = serious_violations(staff)

    # The phone: My reports says only that there is a message; opening it reads it.
    page.goto("/reports")
    page.wait_for_selector("html[data-ready]")
    card = page.locator(f"li[data-id='{item['id']}']")
    card.get_by_text("A message from the project.").wait_for()
    assert words not in page.content()
    card.get_by_role("button", name="Messages").click()
    card.get_by_text(words).wait_for()
    assert f"Staff only note {tag}" not in page.content()
    assert "demo-moderator" not in page.content()
    answer = f"Yes, thank you. Tuesday at the drop-in? {tag}"
    card.get_by_label("Your reply").fill(answer)
    card.get_by_role("button", name="Send reply").click()
    card.get_by_text("Your reply was sent.").wait_for()
    card.get_by_text(answer).wait_for()
    found["reports"] = serious_violations(page)
    # Nothing of the conversation is stored on the phone.
    stored = page.evaluate("async () => JSON.stringify(await (await import('/static/db.js')).all('reports'))")
    assert words not in stored and answer not in stored

    staff.reload()
    staff.wait_for_selector("html[data-ready]")
    staff.get_by_text(answer).wait_for()

    # The report behind the case: who did it, the hate-crime perception, and the handling
    # note its police-pack row will carry.
    staff.get_by_role("link", name=f"Report {item['id'][:8]}").click()
    staff.get_by_text("A landlord").wait_for()
    staff.get_by_text("Because I am a sex worker").wait_for()
    staff.get_by_label("Handling note in police packs").select_option("ask_project_before_action")
    staff.get_by_text("Handling note saved.").wait_for()
    staff.reload()
    staff.wait_for_selector("html[data-ready]")
    assert staff.get_by_label("Handling note in police packs").input_value() == "ask_project_before_action"
    assert found == {"support": [], "case": [], "reports": []}
