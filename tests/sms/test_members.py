"""Text members: enrolment by staff, the number encrypted at rest, publishing queues one
text per text member in the alert's areas (and none for anyone else), wipe, revoke,
retract, and what the moderator is shown before publishing."""
import sqlalchemy as sa

from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery, SmsMember

from .conftest import enrol, publish, queued

ENROL = "/sms/members"


def test_outreach_enrols_a_number_stored_encrypted_and_found_by_its_hash(app, areas, outreach):
    response = outreach.post(ENROL, json={"phone": "07700 900001", "areas": ["hackney"],
                                          "language": "es", "style": "detailed", "consent": True})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["phone"].endswith("001") and "900001" not in body["phone"]
    assert [a["slug"] for a in body["areas"]] == ["hackney"]
    assert (body["language"], body["style"]) == ("es", "detailed")
    raw = db.session.execute(sa.text("SELECT number_hash, number_encrypted FROM sms_member")).one()
    assert b"900001" not in bytes(raw.number_encrypted) and "900001" not in raw.number_hash
    # However the gateway writes the number, the keyed hash finds the member.
    for written in ("+447700900001", "447700900001", "0044 7700 900001"):
        assert service.find_member(service.normalise_number(written)).id == body["id"]
    listed = outreach.get(ENROL).get_json()
    assert [m["id"] for m in listed] == [body["id"]]


def test_enrol_refuses_bad_input_with_clear_4xx(app, areas, outreach, client):
    good = {"phone": "07700 900001", "areas": ["hackney"], "language": "en", "consent": True}
    cases = [
        ({**good, "consent": False}, 422, "consent"),
        ({k: v for k, v in good.items() if k != "consent"}, 422, "consent"),
        ({**good, "phone": "not a number"}, 422, "phone"),
        ({**good, "phone": "12"}, 422, "phone"),
        ({**good, "areas": ["atlantis"]}, 422, "areas"),
        ({**good, "areas": []}, 422, "areas"),
        ({**good, "language": "xx"}, 422, "language"),
        ({**good, "style": "loud"}, 422, "style"),
        ({**good, "extra": 1}, 422, "extra"),
        ({**good, "phone": 7700900001}, 422, "phone"),
    ]
    for body, status, field in cases:
        response = outreach.post(ENROL, json=body)
        assert response.status_code == status, (body, response.get_json())
        assert field in response.get_json()["errors"]["json"], response.get_json()
    # Field errors are codes the staff screens word in the user's language.
    codes = {field: outreach.post(ENROL, json=body).get_json()["errors"]["json"][field]
             for body, _, field in cases[:1] + cases[2:3] + cases[4:5] + cases[6:7]}
    assert codes == {"consent": ["consent_required"], "phone": ["phone_not_one_number"],
                     "areas": ["unknown_area"], "language": ["unknown_language"]}
    assert outreach.post(ENROL, json=good).status_code == 201
    again = outreach.post(ENROL, json={**good, "phone": "+44 7700 900001"})
    assert again.status_code == 409 and again.get_json()["error"] == "sms_number_enrolled"
    assert client.post("/api/v1/staff" + ENROL, json=good).status_code == 401
    assert outreach.post(ENROL, json=good, csrf=False).status_code == 403
    raw = outreach.client.post("/api/v1/staff" + ENROL, data="x", headers=outreach.csrf)
    assert raw.status_code in (415, 422)


def test_publish_queues_one_text_per_text_member_in_its_areas_and_none_for_others(app, areas):
    inside = [enrol(f"07700 9000{i:02d}") for i in range(3)]
    both = enrol("07700 900050", areas=("hackney", "camden"))
    enrol("07700 900060", areas=("camden",))
    revoked = enrol("07700 900070")
    revoked.member.revoked_at = service.utcnow()
    stopped = enrol("07700 900080")
    stopped.stopped_at = service.utcnow()
    db.session.commit()
    wiped = enrol("07700 900090")
    service.wipe_member(None, wiped)

    alert = publish(areas=("hackney", "islington"))
    rows = [row for row, _ in queued("alert")]
    assert sorted(row.sms_member_id for row in rows) == sorted(m.id for m in inside + [both])
    assert {row.alert_id for row in rows} == {alert.id}
    assert all(row.status == "queued" for row in rows)
    # Publishing again (or calling the hook twice) adds nothing.
    assert service.enqueue_alert(alert) == 0
    db.session.commit()
    assert len(queued("alert")) == 4


def test_retract_stops_texts_not_yet_sent(app, areas):
    enrol("07700 900001")
    alert = publish()
    from server.alerts import service as alerts
    alerts.retract(alert)
    db.session.commit()
    assert service.delivery_counts(alert.id) == {"queued": 0, "sent": 0, "gone": 0, "failed": 1}


def test_wipe_forgets_the_number_revokes_and_stops_queued_texts(app, areas, moderator):
    member = enrol("07700 900001")
    publish()
    response = moderator.post(f"{ENROL}/{member.id}/wipe")
    assert response.status_code == 200
    body = response.get_json()
    assert body["phone"] is None and body["areas"] == [] and body["revoked_at"]
    db.session.expire_all()
    row = db.session.get(SmsMember, member.id)
    assert row.number_hash is None and row.number_encrypted is None
    assert [r.status for r, _ in queued("alert")] == ["gone"]
    assert service.find_member("+447700900001") is None
    # The number can be enrolled again, as a new member.
    assert enrol("07700 900001").id != member.id
    assert moderator.post(f"{ENROL}/999/wipe").status_code == 404


def test_outreach_manage_only_the_text_members_they_enrolled(app, areas, outreach, moderator):
    from factories import StaffClient
    other = StaffClient(app, "bus", "outreach")
    theirs = other.post(ENROL, json={"phone": "07700 900002", "areas": ["hackney"],
                                     "language": "en", "consent": True}).get_json()
    assert outreach.post(f"{ENROL}/{theirs['id']}/wipe").status_code == 403
    assert outreach.patch(f"{ENROL}/{theirs['id']}", json={"style": "detailed"}).status_code == 403
    assert other.patch(f"{ENROL}/{theirs['id']}", json={"style": "detailed"}).status_code == 200
    assert moderator.post(f"{ENROL}/{theirs['id']}/wipe").status_code == 200
    actions = db.session.execute(sa.text("SELECT action FROM audit_event")).scalars().all()
    assert "sms_member_wipe_refused" in actions and "sms_member_wiped" in actions


def test_revoking_the_member_stops_its_texts(app, areas, moderator):
    member = enrol("07700 900001")
    assert moderator.post(f"/members/{member.member_id}/revoke").status_code == 200
    publish()
    assert queued("alert") == []
    assert service.find_member("+447700900001") is None


def test_change_areas_language_style(app, areas, moderator):
    member = enrol("07700 900001")
    response = moderator.patch(f"{ENROL}/{member.id}", json={"areas": ["camden"], "language": "es"})
    assert response.status_code == 200, response.get_json()
    assert [a["slug"] for a in response.get_json()["areas"]] == ["camden"]
    assert moderator.patch(f"{ENROL}/{member.id}", json={"style": "x"}).status_code == 422
    assert moderator.patch(f"{ENROL}/{member.id}", json={"areas": ["nowhere"]}).status_code == 422


def test_preview_shows_texts_and_segments_before_publishing(app, areas, moderator, outreach):
    for i in range(3):
        enrol(f"07700 90000{i}")
    enrol("07700 900010", language="es", style="detailed")
    enrol("07700 900020", areas=("camden",))
    stopped = enrol("07700 900030")
    stopped.stopped_at = service.utcnow()
    db.session.commit()
    draft = {"title": "Hombre que se hace pasar por policía", "summary": "Cogió el dinero.",
             "severity": "dangerous", "incident_types": ["robbery"], "areas": ["hackney"],
             "identifiers": [{"kind": "phone", "value": "07700 900123", "display": "full"}]}
    response = moderator.post("/sms/preview", json=draft)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["texts"] == 4
    by = {(row["language"], row["style"]): row for row in body["by_text"]}
    english = by[("en", "neutral")]
    assert english["texts"] == 3 and english["encoding"] == "GSM-7" and english["segments"] == 1
    assert english["text"] == "New safety message from Redflag. Reply READ 1"
    spanish = by[("es", "detailed")]
    # í and á are outside the GSM alphabet: the whole text is UCS-2, 70 characters a part.
    assert spanish["encoding"] == "UCS-2" and spanish["segments"] >= 2
    assert "07700 900123" in spanish["text"] and "PELIGROSO" in spanish["text"]
    assert body["segments"] == 3 + spanish["segments"]
    # Nothing was stored, and the counts match what publishing then queues.
    alert = publish(title=draft["title"], identifiers=draft["identifiers"])
    assert service.delivery_counts(alert.id)["queued"] == 4
    assert moderator.post("/sms/preview", json={**draft, "areas": ["nowhere"]}).status_code == 422
    assert moderator.post("/sms/preview", json={**draft, "severity": "x"}).status_code == 422
    assert moderator.post("/sms/preview", json={"areas": ["camden"]}).get_json()["texts"] == 1
    assert outreach.post("/sms/preview", json=draft).status_code == 403


def test_alert_texts_count_as_deliveries_beside_push(app, areas):
    enrol("07700 900001")
    alert = publish()
    assert service.delivery_counts(alert.id)["queued"] == 1
    assert db.session.execute(sa.select(sa.func.count()).select_from(SmsDelivery)).scalar() == 1


def test_texts_show_identifiers_only_as_staff_chose_and_hidden_ones_never(app, areas):
    from server.sms.sender import load_jobs
    enrol("07700 900001", style="detailed")
    enrol("07700 900002", language="es", style="neutral")
    alert = publish(identifiers=[
        {"kind": "phone", "value": "07700 900123", "display": "full"},
        {"kind": "plate", "value": "AB12 CDE", "display": "masked"},
        {"kind": "email", "value": "secret.man@example.com", "display": "hidden"}])
    ids = [row.id for row, _ in queued("alert")]
    jobs = {job.to: job.text for job in load_jobs(db.session, ids, service.utcnow(), "Redflag")}
    detailed, neutral = jobs["+447700900001"], jobs["+447700900002"]
    # Masked as on the app, with "*" (GSM-7: a "•" would make it a UCS-2 text).
    assert "Phone 07700 900123; Plate AB** **E." in detailed and "AB12 CDE" not in detailed
    from server.sms.texts import segments
    assert segments(detailed) == ("GSM-7", 2)
    assert "secret" not in detailed and "Ask the project about details not shown." in detailed
    ref = service.alert_ref(alert.id)
    assert neutral == f"Nuevo mensaje de seguridad de Redflag. Responde LEER {ref}"


def test_staff_can_enrol_a_number_in_each_of_the_ten_languages(app, areas, outreach):
    ten = ["ar", "bg", "en", "es", "hu", "pl", "pt-BR", "ro", "th", "zh-CN"]
    offered = outreach.get("/sms/languages")
    assert offered.status_code == 200
    assert sorted(row["code"] for row in offered.get_json()) == ten
    for i, language in enumerate(ten):
        response = outreach.post(ENROL, json={"phone": f"07700 9001{i:02d}", "areas": ["hackney"],
                                              "language": language, "consent": True})
        assert response.status_code == 201, (language, response.get_json())
        assert response.get_json()["language"] == language
    for unknown in ("xx", "pt", "zh", "EN", "sms-en", "../en"):
        response = outreach.post(ENROL, json={"phone": "07700 900199", "areas": ["hackney"],
                                              "language": unknown, "consent": True})
        assert response.status_code == 422, unknown
