"""The police-pack CSV is made straight from the database's rows (iter_pack_cells); it is
byte for byte the CSV of the pack's rows (pack_rows) through csv_cell, the definition
tests/api/test_police.py and test_security.py check against formulas, on hostile and
oddly shaped values too."""
import csv
import io
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.moderation import decisions
from server.pages import csv_cell
from server.police import service
from server.reports.models import Report

from factories import send_full_report as send

CSV_URL = "/api/v1/staff/police-pack.csv"
HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\t=x", "\uff1dx", " =x", "", "plain",
           "\u200b=x", "Ünïcode", "1,2\n\"3\""]
LEVELS = ("anonymous_intelligence", "contact_via_project", "full_report")
# Offenders of odd shapes the stored JSON may hold (an old client, a hand edit): the
# CSV must still equal the row's definition.
ODD_OFFENDERS = [{}, {"vehicle": None}, {"vehicle": ""}, {"vehicle": {}},
                 {"names": "Dave", "phones": [], "emails": None, "handles": [1, "@x"]},
                 {"gender": 5, "marks": ["a", "b"], "build": [], "vehicle": {"plate": 7}},
                 {"names": ["", "x"], "phones": ["=1"], "contact_method": "street"}]


def old_csv(header, **filters):
    """The pack's CSV as it was made before iter_pack_cells: csv_cell of each value of
    each pack row (the first line is the byte order mark and the header)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in service.pack_rows(**filters):
        writer.writerow([csv_cell(row.get(name)) for name in header])
    return out.getvalue()


def test_the_csv_is_the_rows_through_csv_cell(app, client, areas, moderator):
    sent = []
    for n in range(len(HOSTILE) + len(ODD_OFFENDERS)):
        sent.append(send(client, description=f"Report {n}.",
                         consent={"publish": True, "police": LEVELS[n % 3]}))
    for n, value in enumerate(HOSTILE):
        db.session.execute(sa.update(Report).where(Report.description == f"Report {n}.").values(
            description=value, offender={"names": [value, "b"], "phones": [value],
                                         "build": value, "vehicle": {"plate": value},
                                         "contact_method": value},
            perpetrator=value or None, part_of_day=value[:16], police_handling=value or None,
            incident_types=[value, "theft"] if n % 2 else ["theft", value],
            targeted_because=[value] if value else None))
    for n, offender in enumerate(ODD_OFFENDERS, start=len(HOSTILE)):
        db.session.execute(sa.update(Report).where(Report.description == f"Report {n}.").values(
            offender=offender, incident_types=[1, "theft"] if n % 2 else [],
            targeted_because={"sex_work": True} if n % 3 == 0 else []))
    db.session.commit()
    # Linked reports: their references are named in each other's rows.
    staff = moderator.staff
    first, second, third = (db.session.get(Report, uuid.UUID(sent[i]["id"])) for i in (0, 4, 8))
    decisions.link(staff, second, first)
    decisions.link(staff, third, first)
    db.session.commit()
    app.config["PROJECT_NAME"] = "=Project"

    response = moderator.get(CSV_URL)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == old_csv(service.FIELDS["full_report"])
    assert "'=cmd|' /C calc'!A0" in response.get_data(as_text=True)

    # Without a full report the header is narrower, and still the same bytes.
    db.session.execute(sa.update(Report).where(Report.consent_police == "full_report")
                       .values(consent_police="contact_via_project"))
    db.session.commit()
    response = moderator.get(CSV_URL)
    assert response.get_data(as_text=True) == old_csv(service.ANONYMOUS)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == len(sent) and all(row["source"] == "'=Project" for row in rows)


@pytest.mark.parametrize("batch", [1, 1000], ids=["a batch per report", "one batch"])
def test_linked_references_in_a_filtered_window_are_those_of_the_rows(
        client, areas, moderator, monkeypatch, batch):
    """The CSV reads the incident groups once per pack (the window's links), pack_rows
    once per batch: the same references, whichever members are outside the window (other
    days, another area, received later) or not shareable, and whichever side of the
    window the group's root is on."""
    monkeypatch.setattr(service, "BATCH", batch)
    inside, before, after = date(2026, 3, 10), date(2026, 2, 1), date(2026, 4, 1)
    shapes = {  # group -> (its root, then its members): (day, area, consent)
        "root inside": [(inside, "hackney", "full_report"), (before, "hackney", "full_report"),
                        (inside, "hackney", "none"), (inside, "camden", "contact_via_project"),
                        (inside, "hackney", "anonymous_intelligence")],
        "root before": [(before, "hackney", "contact_via_project"),
                        (inside, "hackney", "anonymous_intelligence")],
        "root not shareable": [(inside, "hackney", "none"), (inside, "hackney", "full_report"),
                               (after, "hackney", "full_report")],
        "root alone": [(inside, "hackney", "full_report")],
        "members outside": [(inside, "hackney", "anonymous_intelligence"),
                            (before, "hackney", "full_report"),
                            (after, "camden", "contact_via_project"), (inside, "hackney", "none")],
        "all outside": [(after, "hackney", "full_report"), (before, "hackney", "full_report")],
        "members only inside": [(after, "camden", "anonymous_intelligence"),
                                (inside, "hackney", "anonymous_intelligence"),
                                (inside, "hackney", "full_report")],
    }
    for group, reports in shapes.items():
        ids = []
        for n, (day, area, consent) in enumerate(reports):
            report = send(client, description=f"{group} {n}.", area=area,
                          occurred_on=day.isoformat(), consent={"publish": True, "police": consent})
            ids.append(uuid.UUID(report["id"]))
        for report_id in ids[1:]:
            db.session.execute(sa.update(Report).where(Report.id == report_id)
                               .values(linked_to_id=ids[0]))
    send(client, description="Alone.", occurred_on=inside.isoformat(),
         consent={"publish": True, "police": "full_report"})
    db.session.commit()
    for query, filters in (
            ("", {}),
            (f"?from={inside}&to={inside}", {"date_from": inside, "date_to": inside}),
            (f"?from={inside}&to={inside + timedelta(days=1)}&area=hackney",
             {"date_from": inside, "date_to": inside + timedelta(days=1),
              "area_slugs": ["hackney"]}),
            (f"?to={inside}&area=camden", {"date_to": inside, "area_slugs": ["camden"]})):
        text = moderator.get(CSV_URL + query).get_data(as_text=True)
        header = service.columns(service.pack_rows(**filters))
        assert text == old_csv(header, **filters), query
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert any(row["linked_references"] for row in rows), query
