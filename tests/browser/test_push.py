"""Web Push on the phone: the service worker's push handler (fired through the DevTools
protocol) and the whole subscribe -> publish -> push service loop with real parts.

pushManager.subscribe() cannot complete in headless Chromium (no push service reachable),
so the page's PushManager hands out a subscription made by the real local push service
(web-push-testing): the server then pushes to it like to any browser's push service."""
import base64
import json

import pytest
import requests

from .axe import serious_violations
from .members import (
    ServiceWorkerDevTools,
    alert_uuid,
    join,
    new_member,
    notifications,
    publish,
    run_push_worker,
    stored_alert,
    subscriptions,
)
from .pages import installed_app
from .support import wait_until
from pushservice import running_push_service

pytestmark = pytest.mark.browser

# The page's PushManager, replaced by one that hands out the local push service's
# subscription and records what the app asked for.
FAKE_PUSH_MANAGER = """(subscription) => {
    let current = null;
    window.__subscribeCalls = [];
    window.__unsubscribed = 0;
    PushManager.prototype.subscribe = async function (options) {
        const key = new Uint8Array(options.applicationServerKey);
        window.__subscribeCalls.push({userVisibleOnly: options.userVisibleOnly,
                                      key: btoa(String.fromCharCode(...key))});
        current = {
            endpoint: subscription.endpoint,
            options: {userVisibleOnly: true, applicationServerKey: key.buffer},
            toJSON: () => ({endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys}),
            unsubscribe: async () => { current = null; window.__unsubscribed += 1; return true; },
        };
        return current;
    };
    PushManager.prototype.getSubscription = async function () { return current; };
}"""


@pytest.fixture(scope="module")
def push_service(tmp_path_factory):
    with running_push_service(tmp_path_factory.mktemp("web-push-testing")) as service:
        yield service


def member_app(context, server, server_app, path="/settings", permissions=()):
    # DevTools grants exactly this list for the origin (it revokes any other).
    context.grant_permissions(["notifications", *permissions], origin=server.url)
    page = installed_app(context)
    join(page, new_member(server_app))
    page.goto(path)
    page.wait_for_selector("html[data-ready]")
    return page


def wait_for_notifications(page, check, message):
    return wait_until(lambda: check(notifications(page)), page=page, message=message)


def test_push_shows_neutral_text_by_default_detailed_when_chosen_one_per_alert(
        context, server, server_app):
    page = member_app(context, server, server_app)
    worker = ServiceWorkerDevTools(context, page, server)
    first, second = 900001, 900002  # alert numbers (the tag is the number as text)
    uuid = "5a1e0000-0000-4000-8000-000000000001"  # for workers from before numbers

    worker.push({"number": first, "alert": uuid, "area": "hackney", "severity": "dangerous"})
    [shown] = wait_for_notifications(page, lambda found: found, "the first notification")
    assert shown == {"title": "New message", "body": "Tap to open.", "tag": str(first)}

    section = page.get_by_role("region", name="Notifications")
    section.get_by_label("Detailed").check()
    section.get_by_text("Saved.").wait_for()

    # The same alert again: its notification is replaced (now detailed), not added.
    worker.push({"number": first, "area": "hackney", "severity": "dangerous"})
    [shown] = wait_for_notifications(page, lambda found: found and found[0]["title"] != "New message"
                                     and found, "the detailed notification")
    assert shown == {"title": "Dangerous: Hackney", "body": "Tap to read.", "tag": str(first)}

    worker.push({"number": second, "area": "camden", "severity": "risky"})
    found = wait_for_notifications(page, lambda found: len(found) == 2 and found, "two notifications")
    assert {(n["tag"], n["title"]) for n in found} == {(str(first), "Dangerous: Hackney"),
                                                       (str(second), "Risky: Camden")}


def test_subscribe_publish_and_the_push_service_gets_exactly_one_message(
        context, server, server_app, push_service):
    page = member_app(context, server, server_app)
    public_key = requests.get(f"{server.url}/api/v1/push/key", timeout=5).json()["public_key"]
    subscription = push_service.subscribe(public_key)
    page.evaluate(FAKE_PUSH_MANAGER, {"endpoint": subscription["endpoint"], "keys": subscription["keys"]})

    section = page.get_by_role("region", name="Notifications")
    section.get_by_text("Notifications are off on this phone.").wait_for()
    section.locator("input[name='notify-areas'][value='hackney']").check()
    section.get_by_role("button", name="Turn on notifications").click()
    section.get_by_text("Notifications are on for 1 area.").wait_for()
    # Asked as the spec wants: user-visible pushes, for this server's key.
    [call] = page.evaluate("window.__subscribeCalls")
    assert call["userVisibleOnly"] is True
    assert base64.b64decode(call["key"]) == base64.urlsafe_b64decode(public_key + "==")
    assert subscriptions(server_app, subscription["endpoint"]) == {subscription["endpoint"]: ["hackney"]}
    assert serious_violations(page) == []

    # Change the areas (PUT): another area added.
    section.locator("input[name='notify-areas'][value='camden']").check()
    section.get_by_role("button", name="Save areas").click()
    section.get_by_text("Notifications are on for 2 areas.").wait_for()
    assert subscriptions(server_app, subscription["endpoint"]) == {
        subscription["endpoint"]: ["camden", "hackney"]}

    # A moderator publishes for Hackney; the sender runs once.
    number = publish(server_app, ["hackney"], title="Man posing as police")
    publish(server_app, ["sutton"])
    run_push_worker(server)
    messages = wait_until(lambda: push_service.messages(subscription), message="the push message")
    # Exactly one, for Hackney: nothing for the Sutton alert. The app uses the number;
    # the id is for service workers from before alert numbers.
    assert [json.loads(m) for m in messages] == [{
        "number": number, "alert": alert_uuid(server_app, number), "area": "hackney",
        "severity": "dangerous"}]

    # That very message, handed to the service worker: a neutral notification, and the
    # alert fetched into the phone for reading offline.
    ServiceWorkerDevTools(context, page, server).push(messages[0])
    [shown] = wait_for_notifications(page, lambda found: found, "the notification")
    assert (shown["title"], shown["tag"]) == ("New message", str(number))
    record = wait_until(lambda: (stored_alert(page, number) or {}).get("alert"), page=page,
                        message="the alert stored on the phone")
    assert record["title"] == "Man posing as police"

    # Turn off: the server forgets the subscription, the browser unsubscribes.
    section.get_by_role("button", name="Turn off notifications").click()
    section.get_by_text("Notifications are off on this phone.").wait_for()
    assert subscriptions(server_app, subscription["endpoint"]) == {}
    assert page.evaluate("window.__unsubscribed") == 1

    # On again, then "Wipe this device": the server forgets this phone's subscription too.
    section.get_by_role("button", name="Turn on notifications").click()
    section.get_by_text("Notifications are on for 2 areas.").wait_for()
    assert subscriptions(server_app, subscription["endpoint"])
    page.get_by_role("button", name="Wipe this device").click()
    page.get_by_role("button", name="Yes, wipe everything").click()
    page.get_by_role("heading", name="Wiped").wait_for()
    assert subscriptions(server_app, subscription["endpoint"]) == {}


def test_near_me_ticks_the_nearest_areas_without_sending_the_location(
        new_context, server, server_app, watcher):
    context = new_context(geolocation={"latitude": 51.545, "longitude": -0.055})  # Hackney
    page = member_app(context, server, server_app, permissions=["geolocation"])
    section = page.get_by_role("region", name="Notifications")
    # The app's own alerts sync at start is done: count only what the button sends.
    page.wait_for_function(
        "async () => Boolean(await (await import('/static/db.js')).get('kv', 'alerts-sync'))")
    asked = len(watcher.requests)
    section.get_by_role("button", name="Suggest areas near me").click()
    section.get_by_text("Ticked the 3 nearest areas").wait_for()
    assert watcher.requests[asked:] == []  # worked out on the phone: nothing was sent
    ticked = section.locator("input[name='notify-areas']:checked")
    assert "hackney" in [ticked.nth(i).get_attribute("value") for i in range(ticked.count())]
    assert ticked.count() == 3
