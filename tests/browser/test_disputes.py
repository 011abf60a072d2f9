"""A dispute, as people would do it: someone named in a warning objects on the public page
(no account) and writes down a number and a code; a moderator upholds it in the Disputes
queue with a reason; the objector sees the outcome; the number stops matching checks."""
import uuid

import pytest
import requests

from .axe import serious_violations
from .members import new_member, publish
from .pages import LAPTOP, log_in

pytestmark = pytest.mark.browser


def test_a_dispute_is_filed_upheld_and_the_number_stops_matching(new_context, server, server_app):
    tail = f"{int(uuid.uuid4().hex[:5], 16) % 100000:05d}"
    phone = f"07700 9{tail}"
    title = f"Took the money back {tail}"
    publish(server_app, ["hackney"], title=title,
            identifiers=[{"kind": "phone", "value": phone, "display": "full"}])
    member = {"Authorization": f"Bearer {new_member(server_app)}"}

    def matches():
        response = requests.post(f"{server.url}/api/v1/checks", json={"kind": "phone", "value": phone},
                                 headers=member, timeout=10)
        return [a["title"] for a in response.json()["alerts"]]

    assert matches() == [title]

    page = new_context().new_page()
    page.goto("/dispute")
    page.wait_for_selector("html[data-ready]")
    found = {"dispute": serious_violations(page)}
    page.get_by_label("Phone").check()
    page.get_by_label("The number, email, online name or plate").fill(f"+44 7700 9{tail}")
    page.get_by_label("Why is the warning wrong about you?").fill("This is my number since May.")
    page.get_by_role("button", name="Send my objection").click()
    page.get_by_text("We have your objection").wait_for()
    number = page.locator(".dispute-number").inner_text()
    code = page.locator(".dispute-code").inner_text()

    staff = new_context(viewport=LAPTOP).new_page()
    staff.goto("/staff")
    staff.wait_for_selector("html[data-ready]")
    log_in(staff)
    staff.wait_for_url("**/staff/queue")
    staff.get_by_role("link", name="Disputes").click()
    staff.locator(f"li[data-id='{number}']").get_by_role("link").click()
    staff.get_by_text("This is my number since May.").wait_for()
    staff.get_by_role("link", name=title).wait_for()
    found["staff"] = serious_violations(staff)
    staff.get_by_label("Upheld", exact=True).check()
    staff.get_by_label("Reason").fill("The number was written down wrongly.")
    staff.get_by_role("button", name="Decide").click()
    staff.get_by_role("button", name="Yes, decide").click()
    staff.get_by_text("Decided. The objector can see the outcome.").wait_for()
    assert matches() == []

    page.get_by_label("Dispute number").fill(number)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Show the outcome").click()
    page.get_by_text("Upheld: we agreed and changed the warning.").wait_for()
    page.get_by_text("The number was written down wrongly.").wait_for()
    assert title not in page.content()
    assert found == {"dispute": [], "staff": []}
