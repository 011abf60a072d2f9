"""The outbox: a report made with no signal reaches the server exactly once."""
import json
import uuid

import pytest

from .pages import (
    fill_report,
    flush,
    installed_app,
    open_app,
    outbox,
    put_in_outbox,
    report_payload,
    states,
    submit_report,
    wait_for_states,
)
from .support import wait_until

pytestmark = pytest.mark.browser


def marker(name):
    return f"{name}-{uuid.uuid4().hex[:12]}"


def test_offline_report_survives_reload_and_restart_then_arrives_once(persistent_browser, server):
    tag = marker("offline")
    context = persistent_browser()
    page = installed_app(context)
    context.set_offline(True)
    submit_report(page, f"Took the money back at knifepoint. {tag}", types=("robbery", "threats"))
    page.get_by_text("1 report waiting to send").wait_for()
    [item] = outbox(page)
    assert item["state"] == "waiting"

    page.reload()
    page.wait_for_selector("html[data-ready]")
    page.get_by_text("no connection yet").wait_for()
    assert [i["id"] for i in outbox(page)] == [item["id"]]

    # Close the browser; start it again on the same profile, still with no network.
    context.close()
    context = persistent_browser(no_network=True)
    page = open_app(context, "/reports")
    page.get_by_text("1 report waiting to send").wait_for()
    tries = outbox(page)[0]["attempts"]
    page.get_by_role("button", name="Send now").click()
    wait_until(lambda: outbox(page)[0]["attempts"] > tries, message="another try")
    assert states(page) == ["waiting"]
    assert server.reports(tag) == []
    context.close()

    # The network is back: the app sends it as it starts (and the worker, on `sync`).
    context = persistent_browser()
    page = open_app(context, "/reports")
    wait_for_states(page, ["sent"])
    assert server.report_ids(tag) == [item["id"]]
    page.get_by_text("Status: received.").wait_for()
    # A sent report keeps only its summary and receipt on the device, not its text.
    [sent] = outbox(page)
    assert "report" not in sent and sent["receipt"]


def test_server_busy_keeps_the_report_queued_then_it_arrives_once(context, server):
    """503s: the report waits, the backoff timer tries again, and it arrives once."""
    tag = marker("busy")
    context.clock.install()  # the page's timers, moved on by the test instead of waited for
    page = installed_app(context)
    answered = []

    def busy(route):
        answered.append(route.request.url)
        route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "1"},
                      body=json.dumps({"code": 503, "message": "Down for maintenance"}))

    context.route("**/api/v1/sync", busy)
    submit_report(page, f"Refused to pay. {tag}", types=("refused_to_pay",))
    wait_until(lambda: [i for i in outbox(page) if i.get("reason") == "server"], message="a 503")
    page.get_by_text("the server had a problem").wait_for()
    tries = len(answered)
    page.clock.run_for(15_000)  # the first backoff is 10 s, give or take a fifth
    wait_until(lambda: len(answered) > tries, message="a try on the backoff timer", page=page)
    assert states(page) == ["waiting"]
    assert server.reports(tag) == []

    # Waits for a handler still answering an earlier try: without the wait, the browser
    # lets that request through once interception ends, and the handler's answer fails.
    context.unroute_all(behavior="wait")
    page.clock.run_for(30_000)  # the next is 20 s
    wait_for_states(page, ["sent"])
    assert server.report_ids(tag) == [outbox(page)[0]["id"]]


def test_answer_lost_after_the_server_stored_it_then_the_resend_is_a_duplicate(context, server):
    """A timeout the worst way round: the server stored the report but its answer never
    reached the phone. The report stays queued, the resend is answered `duplicate`, and
    the server still holds one report."""
    tag = marker("lost-answer")
    page = installed_app(context)
    answers = []

    def store_then_drop(route):
        answers.append(route.fetch().json())  # the real server stores it...
        route.abort("timedout")                # ...and the phone never hears back

    context.route("**/api/v1/sync", store_then_drop)
    submit_report(page, f"Followed me home. {tag}", types=("harassment_or_stalking",))
    wait_until(lambda: answers and outbox(page)[0].get("attempts"), message="a lost answer", page=page)
    assert [r["result"] for r in answers[0]["results"]] == ["created"]
    assert states(page) == ["waiting"]
    assert len(server.report_ids(tag)) == 1

    # A retry may still be inside store_then_drop (its fetch takes a while on a loaded
    # machine): wait for it, or the browser lets that request through once interception
    # ends and the handler's abort fails with "Route is already handled".
    context.unroute_all(behavior="wait")
    replies = []
    page.on("response", lambda r: replies.append(r.json()) if r.url.endswith("/api/v1/sync") else None)
    flush(page)
    wait_for_states(page, ["sent"])
    wait_until(lambda: replies, message="the resend's answer", page=page)
    assert [r["result"] for r in replies[0]["results"]] == ["duplicate"]
    assert server.report_ids(tag) == [outbox(page)[0]["id"]]


def test_two_tabs_flushing_at_once_send_each_report_once(context, server):
    tag = marker("tabs")
    first = installed_app(context)
    second = open_app(context, "/reports")
    reports = [report_payload(tag) for _ in range(5)]
    context.set_offline(True)
    put_in_outbox(first, *reports)
    second.get_by_text("5 reports waiting to send").wait_for()  # told by the first tab

    sent_in = []  # the reports each successful sync carried
    context.on("requestfinished", lambda request: sent_in.extend(
        report["id"] for report in json.loads(request.post_data or "{}").get("reports", []))
        if request.url.endswith("/api/v1/sync") else None)
    context.set_offline(False)  # both tabs hear `online` and flush
    for tab in (first, second):  # and both are told to flush at the same moment
        tab.evaluate("() => { window.flushing = import('/static/outbox.js').then((m) => m.flush()); }")
    for tab in (first, second):
        tab.evaluate("() => window.flushing")

    wait_for_states(first, ["sent"] * 5)
    wait_for_states(second, ["sent"] * 5)
    ids = sorted(report["id"] for report in reports)
    assert server.report_ids(tag) == ids
    first.wait_for_timeout(200)  # let the last request events reach the handler
    assert sorted(sent_in) == ids  # each went out in one request, by one tab


def test_invalid_report_is_parked_in_the_apps_words_and_others_go_through(context, server):
    tag = marker("parked")
    page = installed_app(context)
    good = [report_payload(tag), report_payload(tag)]
    bad = report_payload(tag, area="atlantis", description=f"Unknown area. {tag}")
    context.set_offline(True)
    put_in_outbox(page, good[0], bad, good[1])
    context.set_offline(False)
    flush(page)
    wait_for_states(page, ["parked", "sent", "sent"])
    assert server.report_ids(tag) == sorted(r["id"] for r in good)

    [parked] = [i for i in outbox(page) if i["state"] == "parked"]
    assert parked["id"] == bad["id"] and parked["result"] == "invalid"
    [message] = parked["errors"]["area"]
    page.goto("/reports")
    card = page.locator(f"li.card[data-id='{bad['id']}']")
    # The field in the app's words; the server's English message is for developers.
    card.get_by_text("Area: This is not right. Check it.").wait_for()
    assert message not in card.inner_text()

    # Fix it: the form comes back filled in, with what to change; choose a real area.
    card.get_by_role("link", name="Fix it").click()
    page.get_by_text("Area: This is not right. Check it.").wait_for()
    assert message not in page.locator("main").inner_text()
    assert page.get_by_label("Tell us what happened").input_value() == bad["description"]
    page.locator("select[name='area']").select_option("camden")
    page.get_by_role("button", name="Save and send").click()
    wait_for_states(page, ["sent", "sent", "sent"])
    assert server.report_ids(tag) == sorted(r["id"] for r in [*good, bad])


def test_incomplete_form_is_not_queued(context):
    page = installed_app(context)
    page.goto("/report")
    page.wait_for_selector("html[data-ready]")
    page.get_by_role("button", name="Save and send").click()
    problems = page.locator(".problems")
    problems.get_by_text("Choose at least one thing they did.").wait_for()
    assert problems.get_by_text("Say in a few words what happened.").is_visible()
    assert problems.get_by_text("Choose an area.").is_visible()
    assert outbox(page) == []
    problems.get_by_role("link", name="Say in a few words what happened.").click()
    assert page.evaluate("document.activeElement.name") == "description"


def test_service_worker_sends_the_outbox_on_a_sync_event(context, server):
    """With no page of the app running, the browser's `sync` event makes the worker send."""
    tag = marker("sync")
    page = installed_app(context)
    page.goto("/healthz")  # in scope of the worker, but no app code runs here
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    # A report queued earlier (written straight to the outbox store, so that no page asks
    # for a sync and nothing but the event below can send it).
    report = report_payload(tag)
    page.evaluate("""async (report) => (await import('/static/db.js')).put('reports', {
        id: report.id, state: 'waiting', report, savedAt: Date.now(), attempts: 0,
        summary: {occurred_on: report.occurred_on, area: report.area,
                  incident_types: report.incident_types}})""", report)
    assert server.reports(tag) == []

    wait_until(lambda: registrations, message="the registration", page=page)
    [registration] = [r for r in registrations if r["scopeURL"] == f"{server.url}/" and not r["isDeleted"]][:1]
    cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": server.url, "registrationId": registration["registrationId"],
        "tag": "outbox", "lastChance": False})
    wait_until(lambda: server.report_ids(tag), message="the report on the server")
    assert server.report_ids(tag) == [report["id"]]
    wait_for_states(page, ["sent"])


def test_draft_survives_a_closed_tab(context):
    page = installed_app(context)
    fill_report(page, "Half written when the tab closed", types=("threats",), area="islington")
    page.get_by_text("Describe the person").click()
    page.get_by_label("Phone numbers they used").fill("07700 900123")
    page.get_by_label("Gender", exact=True).select_option("man")  # not "My gender identity"
    wait_until(lambda: (page.evaluate("""async () => (await (await import('/static/db.js'))
        .get('kv', 'draft'))?.fields?.['offender.phones']""") == "07700 900123"), message="the draft")
    draft_id = page.evaluate("async () => (await (await import('/static/db.js')).get('kv', 'draft')).id")
    page.close()

    page = open_app(context, "/report")
    assert page.get_by_label("Tell us what happened").input_value() == "Half written when the tab closed"
    assert page.locator("input[name='incident_types'][value='threats']").is_checked()
    assert page.locator("select[name='area']").input_value() == "islington"
    assert page.get_by_label("Phone numbers they used").is_visible()  # the section opens itself
    assert page.get_by_label("Phone numbers they used").input_value() == "07700 900123"
    page.get_by_role("button", name="Save and send").click()
    page.wait_for_url("**/reports?saved=1")
    [item] = outbox(page)
    assert item["id"] == draft_id  # the id made with the draft is the report's id

    # Saving a report asked for persistent storage; Settings says what the browser answered.
    page.get_by_role("navigation").get_by_role("link", name="Settings").click()
    kept = page.evaluate("navigator.storage.persisted()")
    page.get_by_text("are kept until they are sent" if kept else "The browser did not promise").wait_for()


def test_my_reports_shows_what_became_of_a_sent_report(context, server):
    tag = marker("status")
    page = installed_app(context)
    submit_report(page, f"Waited outside the flat. {tag}")
    wait_for_states(page, ["sent"])
    sent = page.locator("li.card.sent")
    sent.get_by_text("Status: received.").wait_for()
    # Read with the report's receipt each time My reports opens.
    server.set_status(tag, "published")
    page.goto("/reports")
    sent.get_by_text("Status: a warning went out.").wait_for()
    [item] = outbox(page)
    assert item["status"] == "published" and "report" not in item  # the text left the phone
    server.set_status(tag, "not_published")
    page.goto("/reports")
    sent.get_by_text("Status: no warning was sent.").wait_for()
