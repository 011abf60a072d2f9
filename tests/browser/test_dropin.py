"""Drop-in mode: an outreach worker on a shared tablet files a report for someone, offline;
it is queued, arrives once when the network returns (marked on behalf, with the consent
given), and then nothing of it is left on the tablet. "Next person" empties the form at once."""
import re
import sqlite3
import subprocess
import uuid

import pytest

from .axe import serious_violations
from .pages import DEVICE_STORAGE, outbox, wait_for_service_worker
from .support import BIN, ROOT, wait_until

pytestmark = pytest.mark.browser

TABLET = {"width": 800, "height": 1200}
OUTREACH = ("dropin-van", "a long outreach passphrase")


@pytest.fixture(scope="module")
def outreach_account(server):
    subprocess.run([BIN / "flask", "staff", "create", OUTREACH[0], "--role", "outreach", "--password-stdin"],
                   input=f"{OUTREACH[1]}\n", text=True, env=server.env, cwd=ROOT, check=True,
                   capture_output=True)
    return OUTREACH


def stored(server, marker):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return conn.execute("SELECT report.id, on_behalf, consent_publish, consent_police, member_id, "
                            "staff.username FROM report LEFT JOIN staff ON staff.id = report.staff_id "
                            "WHERE description LIKE ?", (f"%{marker}%",)).fetchall()


def dropin_draft(page):
    return page.evaluate("async () => (await import('/static/db.js')).get('kv', 'dropin-draft')")


def test_a_dropin_report_is_sent_once_and_leaves_nothing_on_the_tablet(new_context, server, outreach_account):
    tag = uuid.uuid4().hex[:12]
    context = new_context(viewport=TABLET)
    page = context.new_page()
    page.goto("/staff")
    page.wait_for_selector("form.login-form")
    page.get_by_label("Username").fill(outreach_account[0])
    page.get_by_label("Password").fill(outreach_account[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/staff/queue$"))
    # An outreach worker prints bulletins; police packs and statistics are for moderators.
    page.get_by_role("link", name="Print: bulletin").wait_for()
    assert page.get_by_role("link", name="Print: police pack").count() == 0
    page.get_by_role("link", name="Drop-in").click()
    page.get_by_role("heading", name="Drop-in report").wait_for()
    wait_for_service_worker(page)

    # No signal in the van: the screen still opens, and the report goes to the outbox.
    context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Drop-in report").wait_for()
    page.get_by_text("Nothing from drop-in left on this tablet.").wait_for()
    # The other staff screens are not kept on the device: offline they only say so.
    page.goto("/staff/queue")
    page.get_by_text("No connection. Staff screens need one").wait_for()
    page.goto("/staff/dropin")
    page.get_by_role("heading", name="Drop-in report").wait_for()
    page.locator("input[name='incident_types'][value='theft']").check()
    page.get_by_label("Tell us what happened").fill(f"Took her phone from the table. {tag}")
    page.locator("select[name='area']").select_option("hackney")
    page.get_by_role("button", name="Save and send").click()
    # The person's consent is asked, never assumed.
    page.locator(".problems").get_by_text("Ask whether we may use this report to warn others.").wait_for()
    found = {"drop-in, with problems": serious_violations(page)}
    # Spoken to the outreach worker, about the person in front of them.
    page.get_by_label("Yes, they agree to warn others").check()
    page.get_by_label("Share what happened and the offender's description. Nothing about them.").check()
    # No contact details: the person will come back to the drop-in.
    page.get_by_label("The person will come back to the drop-in for follow-up").check()
    page.get_by_role("button", name="Save and send").click()

    # Saved: straight on to an empty form for the next person.
    page.get_by_text("1 drop-in report waiting to send from this tablet.").wait_for()
    assert page.get_by_label("Tell us what happened").input_value() == ""
    [item] = outbox(page)
    assert item["state"] == "waiting" and item["report"]["on_behalf"] is True
    assert item["report"]["consent"] == {"publish": True, "police": "anonymous_intelligence"}
    assert item["report"]["support"] == {"come_back": True}
    assert dropin_draft(page) is None
    found["drop-in"] = serious_violations(page)

    # "Next person" empties a half-filled form at once, draft and all.
    page.get_by_label("Tell us what happened").fill("Half a story")
    wait_until(lambda: dropin_draft(page), message="the draft saved")
    emptied = page.evaluate("""() => {
        document.querySelector('[data-action="clear"]').click();
        return document.querySelector('textarea[name="description"]').value;
    }""")
    assert emptied == ""
    wait_until(lambda: dropin_draft(page) is None, message="the draft removed")
    assert stored(server, tag) == []

    # The network is back: it arrives once, on behalf, with the consent given.
    context.set_offline(False)
    page.get_by_text("Nothing from drop-in left on this tablet.").wait_for()
    [(report_id, on_behalf, publish, police, member_id, filed_by)] = stored(server, tag)
    assert (on_behalf, publish, police, member_id) == (1, 1, "anonymous_intelligence", None)
    assert filed_by == outreach_account[0]  # the outreach worker's session came along
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        cases = conn.execute("SELECT status, come_back FROM support_case WHERE report_id = ?",
                             (report_id,)).fetchall()
    assert cases == [("new", 1)]  # in the Support queue, to follow up at the drop-in
    assert str(uuid.UUID(report_id)) == item["id"]

    # Nothing of it on the tablet: no outbox item, no receipt, no draft, in any store.
    storage = page.evaluate(DEVICE_STORAGE)
    assert outbox(page) == []
    assert tag not in str(storage["found"]) and item["id"] not in str(storage["found"])
    assert "Half a story" not in str(storage["found"])
    assert found == {key: [] for key in found}
