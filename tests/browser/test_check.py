"""Check a number: a match, a hidden identifier's answer, no match, offline; and the join
explanation for a phone that is not a member."""
import random
import secrets

import pytest

from .axe import serious_violations
from .members import join, new_member, publish
from .pages import installed_app, open_app

pytestmark = pytest.mark.browser


def phones(n):
    """Distinct UK mobile numbers from the range kept for drama."""
    return [f"07700 900{i:03d}" for i in random.sample(range(1000), n)]


def check(page, value, kind="Phone number"):
    page.get_by_role("radio", name=kind).check()  # a ticked chip reads "✓ Phone number"
    page.locator("input[name='value']").fill(value)
    page.get_by_role("button", name="Check", exact=True).click()


def test_check_shows_matches_withheld_and_no_warning(context, server, server_app):
    shown, hidden, unknown = phones(3)
    plate = f"RF{secrets.randbelow(100):02d} XYZ"
    alert_id = publish(server_app, ["lewisham"], title="Refused to pay, threatened", identifiers=[
        {"kind": "phone", "value": shown, "display": "full"},
        {"kind": "plate", "value": plate, "display": "masked"}])
    publish(server_app, ["lewisham"], identifiers=[{"kind": "phone", "value": hidden, "display": "hidden"}])
    page = installed_app(context)
    join(page, new_member(server_app))
    page.goto("/check")
    page.wait_for_selector("html[data-ready]")

    # Written another way, it still matches: normalised on the server.
    check(page, "+44 " + shown[1:].replace(" ", "-"))
    result = page.locator("section.result")
    result.get_by_role("heading", name="1 warning matches").wait_for()
    assert result.get_by_role("link", name="Refused to pay, threatened").get_attribute(
        "href") == f"/alerts?id={alert_id}"
    assert "Dangerous" in result.inner_text() and "Lewisham" in result.inner_text()
    assert serious_violations(page) == []

    check(page, plate.lower().replace(" ", ""), kind="Number plate")
    result.get_by_role("heading", name="1 warning matches").wait_for()

    check(page, hidden)
    result.get_by_role("heading", name="A warning exists").wait_for()
    assert "Contact the project" in result.inner_text()
    assert result.get_by_role("link").count() == 0  # the hidden alert is not revealed
    assert serious_violations(page) == []

    check(page, unknown)
    result.get_by_role("heading", name="No warning").wait_for()
    assert "Stay careful" in result.inner_text()

    context.set_offline(True)
    check(page, shown)
    page.get_by_text("Checking needs a connection.").wait_for()
    assert result.inner_text() == ""


def test_not_a_member_is_told_to_join(context):
    page = open_app(context, "/check")
    page.get_by_text("Alerts and checks are for members only").wait_for()
    assert page.locator("form").count() == 0
    page.get_by_role("link", name="Join with an invite code").click()
    page.get_by_role("heading", level=1, name="Join").wait_for()
    page.goto("/alerts")
    page.get_by_text("Alerts and checks are for members only").wait_for()
    assert serious_violations(page) == []
