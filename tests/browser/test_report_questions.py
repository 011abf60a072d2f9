"""The report form asks who did it and, plainly, whether the person feels they were targeted
for who they are; the answers go to the server as given (hate crime is recorded on the
person's own perception), and leaving them empty says nothing."""
import json
import sqlite3
import uuid

import pytest

from .axe import serious_violations
from .pages import fill_report, installed_app, outbox, wait_for_states

pytestmark = pytest.mark.browser


def stored(server, marker):
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return conn.execute("SELECT perpetrator, targeted_because, incident_types FROM report "
                            "WHERE description LIKE ?", (f"%{marker}%",)).fetchall()


def test_who_did_it_and_hate_crime_perception_reach_the_server(context, server):
    tag = uuid.uuid4().hex[:10]
    page = installed_app(context)
    fill_report(page, f"Threatened to post my photos. {tag}", types=("image_based_abuse", "blackmail"))
    page.get_by_label("A landlord").check()
    page.get_by_label("Because I am a sex worker").check()
    page.get_by_label("My gender identity, or being trans").check()
    found = serious_violations(page)
    page.get_by_role("button", name="Save and send").click()
    page.wait_for_url("**/reports?saved=1")
    wait_for_states(page, ["sent"])
    assert found == []
    [(perpetrator, targeted, types)] = stored(server, tag)
    assert perpetrator == "landlord"
    assert json.loads(targeted) == ["sex_work", "gender_identity"]
    assert sorted(json.loads(types)) == ["blackmail", "image_based_abuse"]  # in the form's order

    # Nothing ticked: nothing said.
    other = uuid.uuid4().hex[:10]
    fill_report(page, f"Refused to pay. {other}", types=("refused_to_pay",))
    page.get_by_role("button", name="Save and send").click()
    page.wait_for_url("**/reports?saved=1")
    wait_for_states(page, ["sent", "sent"])
    [(perpetrator, targeted, _types)] = stored(server, other)
    assert perpetrator is None and json.loads(targeted or "null") is None
    assert len(outbox(page)) == 2
