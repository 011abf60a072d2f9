"""The staff side: a moderator logs in, works the queue, writes and publishes an alert with
a choice per identifier, sees its delivery counts, retracts it; a "don't publish" report
is refused with the server's message; repeat offenders show; a session that ends goes
back to login; invites; and no staff data is left in the browser's storage."""
import base64
import re
import sqlite3
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .axe import serious_violations
from .pages import DEVICE_STORAGE, LAPTOP, log_in, report_payload

pytestmark = pytest.mark.browser

def sync(server, *reports):
    """Reports sent as a phone's outbox sends them."""
    response = requests.post(f"{server.url}/api/v1/sync", json={"reports": list(reports)}, timeout=10)
    assert response.status_code == 200
    assert [r["result"] for r in response.json()["results"]] == ["created"] * len(reports)


def subscription_body(areas):
    """A push subscription as a browser makes one (the endpoint is never called here)."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    return {"subscription": {"endpoint": f"https://push.example.net/{uuid.uuid4().hex}",
                             "keys": {"p256dh": b64(key), "auth": b64(uuid.uuid4().bytes)}},
            "areas": list(areas)}


def stored_alert(server, title):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        row = conn.execute("SELECT id, identifiers, published_at, retracted_at FROM alert WHERE title = ?",
                           (title,)).fetchone()
    return row


def deliveries(server, alert_id):
    """{status: count} of an alert's delivery rows."""
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM delivery WHERE alert_id = ? GROUP BY status",
                            (alert_id,)).fetchall()
    return dict(rows)


def test_a_moderator_turns_a_report_into_an_alert_and_takes_it_back(new_context, server):
    tag = uuid.uuid4().hex[:10]
    phone = f"07700 9{int(tag[:5], 16) % 100000:05d}"
    first = report_payload(tag, area="hackney", incident_types=["robbery", "threats"],
                           description=f"Took the money back. {tag}",
                           offender={"phones": [phone], "vehicle": {"plate": "XY12 ABC"}, "hair": "grey"})
    again = report_payload(tag, area="hackney", description=f"Same man again. {tag}",
                           offender={"phones": [f"+44 {phone[1:]}"]})
    private = report_payload(tag, area="camden", description=f"Keep this private. {tag}",
                             consent={"publish": False, "police": "none"})
    sync(server, first, again, private)

    context = new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto("/staff")
    page.wait_for_selector("html[data-ready]")
    found = {"login": serious_violations(page)}
    log_in(page)

    # The queue, newest first: the three reports are at the top.
    page.wait_for_url("**/staff/queue")
    page.locator(f"li[data-id='{first['id']}']").wait_for()
    ids = page.locator("ul.rows > li").evaluate_all("(rows) => rows.map((row) => row.dataset.id)")
    assert ids[:3] == [private["id"], again["id"], first["id"]]
    found["queue"] = serious_violations(page)
    page.get_by_label("Area").select_option("camden")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/staff/queue\?area=camden$"))
    page.locator(f"li[data-id='{private['id']}']").wait_for()
    assert page.locator(f"li[data-id='{first['id']}']").count() == 0
    # Search every report by the phone, written another way: both reports that carry it.
    page.get_by_label("Area").select_option("")
    page.get_by_label("Phone, plate or other detail").fill(f"+44 {phone[1:]}")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"identifier_kind=phone&identifier="))
    page.locator(f"li[data-id='{first['id']}']").wait_for()
    ids = page.locator("ul.rows > li").evaluate_all("(rows) => rows.map((row) => row.dataset.id)")
    assert ids == [again["id"], first["id"]]
    page.get_by_role("link", name="Queue").click()

    # Invites: a code to read out and its join link; a device joins with it and
    # subscribes to Hackney, so the alert has a delivery to count.
    page.get_by_role("link", name="Invites").click()
    page.get_by_role("button", name="Make an invite").click()
    code = page.locator(".invite-code").inner_text()
    assert page.locator(".join-link").inner_text() == f"{server.url}/join#{code}"
    token = requests.post(f"{server.url}/api/v1/members/redeem", json={"code": code}, timeout=10).json()["token"]
    member = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{server.url}/api/v1/push/subscriptions", json=subscription_body(["hackney"]),
                         headers=member, timeout=10).status_code == 201

    # The report in full, with the repeat-offender line.
    page.goto(f"/staff/report?id={first['id']}")
    page.get_by_role("heading", name=f"Report {first['id'][:8]}").wait_for()
    page.get_by_text(f"Took the money back. {tag}").wait_for()
    shared = page.locator("ul.shared li", has_text=f"this phone ({phone})")
    assert shared.inner_text().startswith("1 other report shares this phone")
    assert shared.get_by_role("link").get_attribute("href") == f"/staff/report?id={again['id']}"
    page.get_by_text("Reported 2 times").wait_for()
    found["report detail"] = serious_violations(page)

    # Write the alert: phone in full, plate hidden.
    page.get_by_role("link", name="Write an alert").click()
    page.get_by_role("heading", name="Write an alert").wait_for()
    title = f"Robbery at the door {tag}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill("Takes the money back with threats. Grey hair.")
    page.get_by_role("button", name="Add this to the summary").click()
    assert page.get_by_label("Summary").input_value().endswith("This person has been reported 2 times.")
    page.get_by_label("Dangerous").check()
    phone_choice = page.locator("fieldset.identifier", has_text=phone)
    masked = phone_choice.locator("label", has_text="Partly masked").inner_text()
    assert "•" in masked and phone not in masked
    phone_choice.get_by_label("In full").check()
    page.locator("fieldset.identifier", has_text="XY12 ABC").get_by_label("Hidden").check()
    assert page.get_by_label("Robbery").is_checked() and page.get_by_label("Hackney").is_checked()
    found["alert editor"] = serious_violations(page)

    # Saved as a draft, it opens again as it was left.
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    assert re.search(r"/staff/alert\?id=[0-9a-f-]{36}$", page.url)
    page.reload()
    page.get_by_role("heading", name="Edit a draft alert").wait_for()
    assert page.get_by_label("Title").input_value() == title
    assert page.locator("fieldset.identifier", has_text=phone).get_by_label("In full").is_checked()
    assert page.locator("fieldset.identifier", has_text="XY12 ABC").get_by_label("Hidden").is_checked()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_role("button", name="Yes, publish").click()

    # The alerts list: published, with a delivery queued for each device subscribed to
    # Hackney (ours, and any other test's).
    page.wait_for_url(re.compile(r"/staff/alerts\?done=published$"))
    row = page.locator("ul.rows > li", has_text=title)
    row.get_by_text("Published", exact=True).wait_for()
    alert_id, identifiers, published_at, _ = stored_alert(server, title)
    counts = deliveries(server, alert_id)
    assert counts.get("queued", 0) >= 1
    for status in ("queued", "sent", "gone", "failed"):
        assert row.locator(f"[data-count='{status}']").inner_text() == f"{status} {counts.get(status, 0)}"
    assert published_at and "full" in identifiers and "hidden" in identifiers
    feed = requests.get(f"{server.url}/api/v1/alerts", headers=member, timeout=10).json()["alerts"]
    [seen] = [a for a in feed if a["title"] == title]
    assert seen["identifiers"] == [{"kind": "phone", "value": phone}] and seen["withheld_identifiers"] == 1

    # Retract, after saying yes.
    row.get_by_role("button", name="Retract").click()
    row.get_by_role("button", name="Yes, retract").click()
    row.get_by_text("Retracted", exact=True).wait_for()
    assert stored_alert(server, title)[3] is not None
    feed = requests.get(f"{server.url}/api/v1/alerts", headers=member, timeout=10).json()["alerts"]
    assert title not in [a["title"] for a in feed]

    # A "don't publish" report: the server refuses, and says why.
    page.goto(f"/staff/report?id={private['id']}")
    page.get_by_text("The reporter said: do not publish").wait_for()
    page.get_by_role("link", name="Write an alert").click()
    page.get_by_label("Title").fill(f"Should never go out {tag}")
    page.get_by_label("Summary").fill("Nothing.")
    page.get_by_label("Nuisance").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_role("button", name="Yes, publish").click()
    # Said in the app's words: from the server's error code, or from its status before codes.
    page.locator(".problems").get_by_text(re.compile(
        "The reporter asked for this report not to be published|This cannot be done now")).wait_for()
    assert stored_alert(server, f"Should never go out {tag}") is None

    # The session ends (expired, or revoked elsewhere): the next call goes back to login.
    context.clear_cookies()
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.wait_for_url(re.compile(r"/staff\?ended=1&next="))
    log_in(page, note="Your session has ended. Please log in again.")
    page.wait_for_url("**/staff/alerts")

    # Nothing of the staff side stays in the browser: no IndexedDB record, no cached answer.
    storage = page.evaluate(DEVICE_STORAGE)
    assert tag not in str(storage["found"])
    assert [url for url in storage["cached"] if "/api/" in url] == []

    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()
    assert page.evaluate("async () => (await fetch('/api/v1/staff/me')).status") == 401
    assert found == {key: [] for key in found}


def test_the_queue_pages_older_and_back_newer_by_key(new_context, server):
    """27 reports carry one phone: the search shows 25, Older the last 2, Newer the 25
    again; the addresses carry the server's cursors, so reload and Back keep the page."""
    tag = uuid.uuid4().hex[:10]
    phone = f"07700 9{int(tag[:5], 16) % 100000:05d}"
    reports = [report_payload(f"{tag}{n}", area="hackney", offender={"phones": [phone]})
               for n in range(27)]
    for report in reports:  # one request each: each is received after the one before
        sync(server, report)
    newest_first = [r["id"] for r in reversed(reports)]

    page = new_context(viewport=LAPTOP).new_page()
    page.goto("/staff")
    page.wait_for_selector("html[data-ready]")
    log_in(page)
    page.wait_for_url("**/staff/queue")
    page.goto(f"/staff/queue?identifier_kind=phone&identifier={phone.replace(' ', '+')}")
    rows = lambda: page.locator("ul.rows > li").evaluate_all(  # noqa: E731
        "(rows) => rows.map((row) => row.dataset.id)")
    page.locator(f"li[data-id='{newest_first[0]}']").wait_for()
    assert rows() == newest_first[:25]
    assert page.get_by_role("link", name="Newer").count() == 0

    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r"&after="))
    page.locator(f"li[data-id='{newest_first[26]}']").wait_for()
    assert rows() == newest_first[25:]
    assert page.get_by_role("link", name="Older").count() == 0
    page.reload()
    page.locator(f"li[data-id='{newest_first[26]}']").wait_for()
    assert rows() == newest_first[25:]

    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(re.compile(r"&before="))
    page.locator(f"li[data-id='{newest_first[0]}']").wait_for()
    assert rows() == newest_first[:25]
    assert page.get_by_role("link", name="Newer").count() == 0
