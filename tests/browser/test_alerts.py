"""The Alerts screen: the feed synced into IndexedDB, new ones marked, readable offline,
retracted ones dropped from the phone."""
import pytest

from .axe import serious_violations
from .members import alert_uuid, join, new_member, publish, retract, stored_alert
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
        str(second), str(first)]

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


# What the app before alert numbers kept: records keyed by uuid, holding GET /api/v1/alerts's
# alert objects as they were then (no number), one known from a push only, and
# `alerts-sync` with that reply's `now` and its scope (the area's slug; this is its sync).
KEEP_AS_BEFORE = """async ([area, pushed]) => {
  const db = await import('/static/db.js');
  const { api } = await import('/static/api.js');
  const page = (await api(`/api/v1/alerts?limit=200&area=${area}`)).data;
  for (const { number, ...alert } of page.alerts) {
    await db.put('alerts', { id: alert.id, alert, fresh: false, severity: alert.severity, area: null,
                             storedAt: Date.now() });
  }
  await db.put('alerts', { id: pushed, alert: null, fresh: true, severity: 'risky', area,
                           storedAt: Date.now() });
  await db.put('kv', { now: page.now, scope: area, at: Date.now() }, 'alerts-sync');
  return page.alerts.map((alert) => alert.id);
}"""

ALL_KEYS = "async () => (await (await import('/static/db.js')).all('alerts')).map((r) => r.id)"


def same_alert(read, kept):
    """An alert read from the compact feed says what the old form said (dates to the ms),
    less the id the app no longer keeps."""
    from datetime import datetime
    ms = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="milliseconds")  # noqa: E731
    return ({**read, "published_at": ms(read["published_at"])}
            == {**{k: v for k, v in kept.items() if k != "id"}, "number": read["number"],
                "published_at": ms(kept["published_at"])})


OTHER_AREA = "bexley"  # no other browser test publishes here either


def test_an_offline_copy_kept_by_the_previous_version_survives_the_update(context, server, server_app):
    """A phone that synced before alert numbers keeps its alerts through the update: they
    read as before offline (list and detail, by their uuid); the next sync is a full one
    that rewrites them keyed by number, saying the same, and leaves no uuid-keyed record
    (nor the one known from a push only); the sync after it asks only for what changed."""
    page = installed_app(context)
    join(page, new_member(server_app))
    page.evaluate(f"async () => (await import('/static/areas.js')).setMyAreas(['{OTHER_AREA}'])")
    old = publish(server_app, [OTHER_AREA], title="Kept from before the update", identifiers=[
        {"kind": "phone", "value": "07700 900456", "display": "masked"},
        {"kind": "name", "value": "Dave Hidden", "display": "hidden"}])
    old_id = alert_uuid(server_app, old)
    pushed = "5a1e0000-0000-4000-8000-0000000000aa"  # a push told of it; never fetched
    assert page.evaluate(KEEP_AS_BEFORE, [OTHER_AREA, pushed]) == [old_id]
    before = stored_alert(page, old_id)

    # Offline, before any sync: the old records read as they did, list and detail.
    context.set_offline(True)
    page.goto("/alerts")
    page.wait_for_selector(".sync[data-synced='offline']")
    text = card(page, old_id).inner_text()
    for expected in ("Kept from before the update", "Dangerous", "Bexley", "077•• •••456",
                     "1 detail withheld: contact the project."):
        assert expected in text, (expected, text)
    card(page, old_id).get_by_role("link", name="Kept from before the update").click()
    page.get_by_role("heading", level=1, name="Kept from before the update").wait_for()
    assert page.get_by_text("077•• •••456").is_visible()

    # Online: the first sync of this version is a full one, by number.
    fresh = publish(server_app, [OTHER_AREA], title="Published after the update", severity="risky",
                    identifiers=[{"kind": "plate", "value": "XY34 ZZZ", "display": "full"}])
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/alerts" in request.url else None)
    context.set_offline(False)
    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    assert asked and all("/api/v1/alerts/compact?key=number" in url and "since=" not in url
                         for url in asked), asked
    assert sorted(page.evaluate(ALL_KEYS)) == sorted([old, fresh])
    assert same_alert(stored_alert(page, old)["alert"], before["alert"])
    rewritten = stored_alert(page, old)["alert"]
    assert rewritten["identifiers"] == [{"kind": "phone", "value": "077•• •••456"}]
    assert rewritten["withheld_identifiers"] == 1 and "id" not in rewritten
    assert stored_alert(page, fresh)["alert"]["areas"] == [{"slug": OTHER_AREA, "name": "Bexley"}]
    assert page.locator("li.card").evaluate_all("(cards) => cards.map((c) => c.dataset.id)") == [
        str(fresh), str(old)]

    # Offline again, both read alike by number: list and detail.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".sync[data-synced='offline']")
    for number, expected in ((old, ("Kept from before the update", "Dangerous", "Bexley", "077•• •••456",
                                    "1 detail withheld: contact the project.")),
                             (fresh, ("Published after the update", "Risky", "Bexley", "XY34 ZZZ", "Robbery"))):
        text = card(page, number).inner_text()
        assert all(item in text for item in expected), (expected, text)
    card(page, fresh).get_by_role("link", name="Published after the update").click()
    page.get_by_role("heading", level=1, name="Published after the update").wait_for()
    assert page.get_by_text("XY34 ZZZ").is_visible()

    # The next sync asks only for what changed; a retraction reaches the phone by number.
    retract(server_app, old)
    context.set_offline(False)
    asked.clear()
    open_alerts(page)
    assert page.locator(".sync[data-synced='ok']").count() == 1
    assert asked and all("key=number" in url and "since=" in url for url in asked), asked
    assert page.evaluate(ALL_KEYS) == [fresh]
