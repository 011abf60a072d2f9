"""Alerts by text, as staff use them: an outreach worker enrols a phone number at the
drop-in (areas, language, what the texts say, consent), and a moderator publishing an
alert for that area is told how many texts and SMS segments it sends, before saying yes."""
import re
import sqlite3
import subprocess
import uuid

import pytest
import requests

from .axe import serious_violations
from .pages import report_payload
from .support import BIN, ROOT

pytestmark = pytest.mark.browser

OUTREACH = ("texts-van", "a long outreach passphrase")
MODERATOR = ("demo-moderator", "redflag-demo-moderator")


def log_in(page, account):
    page.goto("/staff")
    page.wait_for_selector("form.login-form")
    page.get_by_label("Username").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/staff/queue$"))


def text_members(server):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return conn.execute("SELECT sms_member.id, language, style, number_encrypted FROM sms_member "
                            "ORDER BY id").fetchall()


def queued_texts(server, title):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return conn.execute("SELECT COUNT(*) FROM sms_delivery JOIN alert ON alert.id = sms_delivery.alert_id "
                            "WHERE alert.title = ?", (title,)).fetchone()[0]


def test_outreach_enrols_a_number_and_the_moderator_sees_the_texts_before_publishing(new_context, server):
    subprocess.run([BIN / "flask", "staff", "create", OUTREACH[0], "--role", "outreach", "--password-stdin"],
                   input=f"{OUTREACH[1]}\n", text=True, env=server.env, cwd=ROOT, check=True,
                   capture_output=True)
    tag = uuid.uuid4().hex[:8]
    number = f"07700 9{int(tag[:5], 16) % 100000:05d}"
    page = new_context().new_page()
    log_in(page, OUTREACH)
    page.get_by_role("link", name="Texts").click()
    page.get_by_role("heading", name="Alerts by text message").wait_for()
    before = len(text_members(server))

    # Without the person's consent nothing is stored, and the form says why.
    page.get_by_label("Phone number").fill(number)
    page.locator("form.text-form").get_by_label("Hackney").check()
    page.get_by_role("button", name="Enrol for texts").click()
    page.locator(".problems").get_by_text("only with the person's consent").wait_for()
    assert len(text_members(server)) == before

    page.get_by_label("Language of the texts").select_option(label="Español")
    page.get_by_label("The warning itself").check()
    page.get_by_label("The person agreed to get these texts").check()
    page.get_by_role("button", name="Enrol for texts").click()
    page.get_by_text("Enrolled.").wait_for()
    row = page.locator("ul.rows > li", has_text="Español")
    row.wait_for()
    # The list shows the number partly masked; the database holds it encrypted.
    assert number[-3:] in row.inner_text() and number.replace(" ", "")[-6:] not in row.inner_text()
    (_, language, style, encrypted), = text_members(server)[before:]
    assert (language, style) == ("es", "detailed") and number[-6:].encode() not in encrypted
    assert serious_violations(page) == []

    # The moderator writes an alert for Hackney: the confirm step counts the texts.
    report = report_payload(tag, area="hackney", description=f"Took the money back. {tag}")
    response = requests.post(f"{server.url}/api/v1/sync", json={"reports": [report]}, timeout=10)
    assert response.status_code == 200
    moderator = new_context().new_page()
    log_in(moderator, MODERATOR)
    moderator.goto(f"/staff/alert?report={report['id']}")
    title = f"Texts counted {tag}"
    moderator.get_by_label("Title").fill(title)
    moderator.get_by_label("Summary").fill("Took the money back at the door.")
    moderator.get_by_label("Dangerous").check()
    moderator.get_by_role("button", name="Publish", exact=True).click()
    question = moderator.locator(".confirm")
    question.wait_for()
    assert re.search(r"It also sends \d+ text messages? \(\d+ SMS segments", question.inner_text())
    moderator.get_by_role("button", name="Yes, publish").click()
    moderator.wait_for_url(re.compile(r"/staff/alerts\?done=published$"))
    assert queued_texts(server, title) >= 1
