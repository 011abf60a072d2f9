"""The Alerts screen: the feed synced into IndexedDB, new ones marked, readable offline,
retracted ones dropped from the phone."""
import pytest

from .axe import serious_violations
from .members import join, new_member, publish, retract, stored_alert
from .pages import installed_app

pytestmark = pytest.mark.browser

AREA = "havering"  # no other browser test publishes here


def card(page, alert_id):
    return page.locator(f"li.card[data-id='{alert_id}']")


def open_alerts(page):
    page.goto("/alerts")
    page.wait_for_selector(".sync[data-synced]")


def test_feed_marks_new_works_offline_and_drops_retracted(context, server, server_app):
    page = installed_app(context)
    join(page, new_member(server_app))
    page.evaluate(f"async () => (await import('/static/areas.js')).setMyAreas(['{AREA}'])")
    first = publish(server_app, [AREA], title="Grey van, robbed two women", identifiers=[
        {"kind": "phone", "value": "07700 900123", "display": "full"},
        {"kind": "email", "value": "dave.smith@example.com", "display": "masked"},
        {"kind": "plate", "value": "AB12 CDE", "display": "hidden"},
    ])

    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    shown = card(page, first)
    assert shown.locator(".badge").inner_text() == "New"
    text = shown.inner_text()
    for expected in ("Grey van, robbed two women", "Dangerous", "Havering", "07700 900123",
                     "d•••@example.com", "1 detail withheld: contact the project."):
        assert expected in text
    assert "AB12" not in text and "dave.smith" not in text
    assert serious_violations(page) == []

    # Seen once, it is no longer new; a later alert is, and comes first.
    second = publish(server_app, [AREA], title="Man with a knife", severity="risky")
    open_alerts(page)
    assert card(page, second).locator(".badge").count() == 1
    assert card(page, first).locator(".badge").count() == 0
    assert page.locator("li.card").evaluate_all("(cards) => cards.map((c) => c.dataset.id)")[:2] == [
        second, first]

    # No signal: the whole feed and each alert are read from the phone.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".sync[data-synced='offline']")
    assert card(page, first).is_visible() and card(page, second).is_visible()
    assert page.get_by_text("No connection: showing the alerts saved on this phone").is_visible()
    card(page, first).get_by_role("link", name="Grey van, robbed two women").click()
    page.get_by_role("heading", level=1, name="Grey van, robbed two women").wait_for()
    assert page.get_by_text("Robbery").is_visible()
    assert page.get_by_text("07700 900123").is_visible()
    assert serious_violations(page) == []

    # Retracted on the server: gone from the phone at the next sync.
    retract(server_app, first)
    context.set_offline(False)
    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    assert card(page, first).count() == 0 and card(page, second).count() == 1
    assert stored_alert(page, first) is None


def test_alert_opened_by_id_is_fetched_when_not_on_the_phone(context, server, server_app):
    page = installed_app(context)
    join(page, new_member(server_app))
    alert_id = publish(server_app, [AREA], title="Tapped from a notification")
    page.goto(f"/alerts?id={alert_id}")
    page.get_by_role("heading", level=1, name="Tapped from a notification").wait_for()
    assert stored_alert(page, alert_id)["alert"]["title"] == "Tapped from a notification"

    # Retracted: the next sync drops it from the phone (reading a stored alert offline is
    # covered by the feed test).
    retract(server_app, alert_id)
    page.goto("/alerts")
    page.wait_for_selector(".sync[data-synced='ok']")
    assert card(page, alert_id).count() == 0
    assert stored_alert(page, alert_id) is None
