"""Reports are indexed by normalised identifier as they are stored, and linked by it."""
import uuid

from server.extensions import db
from server.identifiers import service
from server.identifiers.models import Identifier
from server.moderation import reading as moderation
from server.reports.models import Report


def send(client, **offender):
    report = {"id": str(uuid.uuid4()), "occurred_on": "2026-11-20", "area": "hackney",
              "incident_types": ["robbery"], "description": "Took the money back.",
              "offender": offender}
    assert client.post("/api/v1/reports", json=report).status_code == 201
    return db.session.get(Report, uuid.UUID(report["id"]))


def test_report_identifiers_are_indexed_with_the_report(client, areas):
    report = send(client, phones=["(07700) 900-123"], vehicle={"plate": "ab12 cde"},
                  emails=["Dave@Example.com"])
    rows = {(i.kind, i.value) for i in db.session.execute(
        db.select(Identifier).filter_by(report_id=report.id)).scalars()}
    assert rows == {("phone", "+447700900123"), ("plate", "AB12CDE"), ("email", "dave@example.com")}


def test_reports_sharing_an_identifier_are_linked(client, areas):
    first = send(client, phones=["07700 900123"])
    second = send(client, phones=["+44 7700 900123"], vehicle={"plate": "XY1 2AB"})
    third = send(client, vehicle={"plate": "xy12ab"})
    unrelated = send(client, phones=["07700 900999"])

    shared = moderation.shared_with(second)
    assert shared == {("phone", "+447700900123"): [first.id], ("plate", "XY12AB"): [third.id]}
    assert moderation.shared_with(unrelated) == {}
    assert service.times_reported([("phone", "0044 7700 900123")]) == 2
    assert service.times_reported([("phone", "07700900123"), ("plate", "XY12 AB")]) == 3
    carrying = set(db.session.execute(service.reports_carrying("plate", "xy12 ab")).scalars())
    assert carrying == {second.id, third.id}
