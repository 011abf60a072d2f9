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


# What the app before the compact feed kept: records holding GET /api/v1/alerts's alert
# objects, and `alerts-sync` with that reply's `now` (this is its sync, for one area).
KEEP_AS_BEFORE = """async ([area]) => {
  const db = await import('/static/db.js');
  const { api } = await import('/static/api.js');
  const page = (await api(`/api/v1/alerts?limit=200&area=${area}`)).data;
  for (const alert of page.alerts) {
    await db.put('alerts', { id: alert.id, alert, fresh: false, severity: alert.severity, area: null,
                             storedAt: Date.now() });
  }
  await db.put('kv', { now: page.now, scope: area, at: Date.now() }, 'alerts-sync');
  return page.alerts.map((alert) => alert.id);
}"""

def same_alert(read, kept):
    """An alert read from the compact feed says what the old form said (dates to the ms)."""
    from datetime import datetime
    ms = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="milliseconds")  # noqa: E731
    return ({**read, "published_at": ms(read["published_at"])}
            == {**kept, "published_at": ms(kept["published_at"])})


OTHER_AREA = "bexley"  # no other browser test publishes here either


def test_an_offline_copy_kept_by_the_previous_version_survives_the_update(context, server, server_app):
    """A phone that synced before the compact feed keeps its alerts through the update: the
    next sync asks only for what changed since, the old records and the new ones read
    alike on the screen offline, and a full sync rewrites them without losing any."""
    page = installed_app(context)
    join(page, new_member(server_app))
    page.evaluate(f"async () => (await import('/static/areas.js')).setMyAreas(['{OTHER_AREA}'])")
    old = publish(server_app, [OTHER_AREA], title="Kept from before the update", identifiers=[
        {"kind": "phone", "value": "07700 900456", "display": "masked"},
        {"kind": "name", "value": "Dave Hidden", "display": "hidden"}])
    assert page.evaluate(KEEP_AS_BEFORE, [OTHER_AREA]) == [old]
    before = stored_alert(page, old)

    fresh = publish(server_app, [OTHER_AREA], title="Published after the update", severity="risky",
                    identifiers=[{"kind": "plate", "value": "XY34 ZZZ", "display": "full"}])
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/alerts" in request.url else None)
    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    assert asked and all("/api/v1/alerts/compact?" in url and "since=" in url for url in asked)
    # Published within the look-back of `since`, it came again, in the same words.
    assert same_alert(stored_alert(page, old)["alert"], before["alert"])
    assert stored_alert(page, fresh)["alert"]["areas"] == [{"slug": OTHER_AREA, "name": "Bexley"}]

    # Offline, both read alike: list and detail.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".sync[data-synced='offline']")
    assert page.locator("li.card").evaluate_all("(cards) => cards.map((c) => c.dataset.id)") == [fresh, old]
    for alert_id, expected in ((old, ("Kept from before the update", "Dangerous", "Bexley", "077•• •••456",
                                      "1 detail withheld: contact the project.")),
                               (fresh, ("Published after the update", "Risky", "Bexley", "XY34 ZZZ", "Robbery"))):
        text = card(page, alert_id).inner_text()
        assert all(item in text for item in expected), (expected, text)
    card(page, fresh).get_by_role("link", name="Published after the update").click()
    page.get_by_role("heading", level=1, name="Published after the update").wait_for()
    assert page.get_by_text("XY34 ZZZ").is_visible()

    # Other areas chosen: a full sync in the compact form replaces every record, none lost.
    context.set_offline(False)
    page.evaluate(f"async () => (await import('/static/areas.js')).setMyAreas(['{OTHER_AREA}', 'havering'])")
    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    rewritten = stored_alert(page, old)["alert"]
    assert same_alert(rewritten, before["alert"])
    assert rewritten["identifiers"] == [{"kind": "phone", "value": "077•• •••456"}]
    assert rewritten["withheld_identifiers"] == 1
    assert card(page, old).is_visible() and card(page, fresh).is_visible()
