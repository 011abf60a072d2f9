"""Texts that come in: commands in the member's language, any case and spacing; checks
within the member's check limit; nothing about alerts for a number that is not a member;
the gateway's routes refuse what they cannot read with a clear 4xx."""
import pytest

from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery

from .conftest import DEMO_NUMBER, SECRET, enrol, last_reply, publish, queued, text_in

PHONE = {"kind": "phone", "value": DEMO_NUMBER, "display": "full"}


@pytest.fixture
def warned(app, areas):
    """A published alert naming 07700 900123, and an English text member in its area."""
    alert = publish(identifiers=[PHONE], title="Robbery by a man met online")
    member = enrol("07700 900001")
    return alert, member


def test_check_by_text_answers_like_the_app(client, warned):
    alert, member = warned
    ref = service.alert_ref(alert.id)
    for text in ("CHECK 07700 900123", "  check   07700900123 ", "Check +44 7700 900123",
                 "07700 900123"):
        assert text_in(client, "447700900001", text).status_code == 200
        reply = last_reply()
        assert reply.startswith("WARNING for") and "Robbery by a man met online" in reply, reply
        assert f"READ {ref}" in reply
    db.session.expire_all()
    assert member.member.check_count == 4
    assert text_in(client, "447700900001", "CHECK 07700 900999").status_code == 200
    assert last_reply().startswith("No warning matches 07700 900999")
    text_in(client, "447700900001", "CHECK")
    assert "does not look like a phone number" in last_reply()


def test_spanish_member_gets_spanish_replies_and_spanish_commands(client, warned):
    alert, _ = warned
    enrol("07700 900002", language="es")
    text_in(client, "+447700900002", "comprobar 07700 900123")
    assert last_reply().startswith("ALERTA para 07700 900123")
    text_in(client, "+447700900002", "CHECK 07700 900123")  # English keywords always work
    assert last_reply().startswith("ALERTA para")
    text_in(client, "+447700900002", f"leer {service.alert_ref(alert.id)}")
    assert last_reply().startswith("Robbery by a man met online (PELIGROSO, Hackney)")
    text_in(client, "+447700900002", "Zonas")
    assert last_reply() == "Tus zonas: Hackney. El proyecto puede cambiarlas."
    text_in(client, "+447700900002", "ayuda")
    assert last_reply().startswith("Envía COMPROBAR")


def test_check_limit_is_the_members_check_limit(app, client, warned):
    app.config["CHECK_RATE_LIMIT"] = "2 per hour"
    for _ in range(2):
        text_in(client, "447700900001", "CHECK 07700 900123")
        assert last_reply().startswith("WARNING")
    text_in(client, "447700900001", "CHECK 07700 900123")
    assert last_reply() == "Too many checks from this phone. Try again later."


def test_replies_to_a_member_stop_at_the_reply_limit_but_stop_still_acts(app, client, warned):
    app.config["SMS_MEMBER_REPLY_LIMIT"] = "3 per day"
    alert, member = warned
    ref = service.alert_ref(alert.id)
    for text in ("HELP", f"READ {ref}", "AREAS", f"READ {ref}", "CHECK 07700 900123"):
        text_in(client, "447700900001", text)
    assert len(queued("reply")) == 3
    text_in(client, "447700900001", "STOP")
    assert len(queued("reply")) == 3
    db.session.expire_all()
    assert member.stopped_at is not None
    # Another member has their own allowance.
    enrol("07700 900002")
    text_in(client, "447700900002", "HELP")
    assert len(queued("reply")) == 4


def test_read_sends_the_alert_in_full_and_only_live_ones(client, warned):
    alert, _ = warned
    ref = service.alert_ref(alert.id)
    text_in(client, "447700900001", f"read {ref}")
    reply = last_reply()
    assert reply.startswith("Robbery by a man met online (DANGEROUS, Hackney).")
    assert "Took money at the door." in reply and "Phone 07700 900123" in reply
    text_in(client, "447700900001", "READ 999")
    assert last_reply() == "No live warning has the number 999."
    text_in(client, "447700900001", "READ 99999999999999999999")
    assert last_reply() == "No live warning has the number 99999999999999999999."
    from server.alerts import service as alerts
    alerts.retract(alert)
    db.session.commit()
    text_in(client, "447700900001", f"READ {ref}")
    assert last_reply() == f"No live warning has the number {ref}."


def test_stop_stops_alert_texts_until_start(client, app, areas):
    member = enrol("07700 900001")
    publish()
    text_in(client, "447700900001", "stop")
    assert last_reply().startswith("You will get no more warnings by text.")
    # The alert text not yet sent is stopped too; the next alert queues nothing.
    assert [row.status for row, _ in queued("alert")] == ["gone"]
    publish(title="Second")
    assert len(queued("alert")) == 1
    text_in(client, "447700900001", "START")
    assert last_reply().startswith("You will get warnings by text again.")
    publish(title="Third")
    assert [row.status for row, _ in queued("alert")] == ["gone", "queued"]
    db.session.expire_all()
    assert member.stopped_at is None


def test_areas_help_and_unknown_words(client, app, areas):
    enrol("07700 900001", areas=("hackney", "camden"))
    text_in(client, "447700900001", "AREAS")
    assert last_reply() == "Your areas: Camden, Hackney. The project can change them."
    text_in(client, "447700900001", "HELP")
    assert last_reply().startswith("Send CHECK and a phone number")
    text_in(client, "447700900001", "hello?")
    assert last_reply() == "Sorry, that was not understood. Send HELP for the commands."


def test_a_number_that_is_not_a_member_learns_nothing(app, client, warned):
    alert, member = warned
    for text in ("CHECK 07700 900123", f"READ {service.alert_ref(alert.id)}", "AREAS", "HELP"):
        assert text_in(client, "447700900999", text).status_code == 200
    assert queued("reply") == []
    # With the setting on: one neutral reply a day, saying nothing about alerts.
    app.config["SMS_REPLY_TO_UNKNOWN"] = True
    text_in(client, "447700900998", "CHECK 07700 900123")
    text_in(client, "447700900998", "HELP")
    replies = queued("reply")
    assert [text for _, text in replies] == ["This number does not take messages."]
    assert replies[0][0].sms_member_id is None
    assert service.decrypt(replies[0][0].to_encrypted) == "+447700900998"
    # A revoked member is as good as unknown.
    member.member.revoked_at = service.utcnow()
    db.session.commit()
    text_in(client, "447700900001", "CHECK 07700 900123")
    assert [text for _, text in queued("reply")] == ["This number does not take messages."] * 2


def test_gateway_routes_refuse_what_they_cannot_read(app, client, areas):
    enrol("07700 900001")
    assert text_in(client, "447700900001", "HELP", secret="wrong").status_code == 403
    assert client.post("/api/v1/sms/kannel/incoming", data=b"HELP",
                       headers={"X-Kannel-From": "447700900001"}).status_code == 403
    no_sender = client.post(f"/api/v1/sms/kannel/incoming?secret={SECRET}", data=b"HELP")
    assert no_sender.status_code == 400 and no_sender.get_json()["message"]
    bad_charset = client.post(f"/api/v1/sms/kannel/incoming?secret={SECRET}", data=b"\xff\xfe\xfa",
                              headers={"X-Kannel-From": "447700900001",
                                       "Content-Type": "text/plain; charset=UTF-8"})
    assert bad_charset.status_code == 400
    odd_charset = client.post(f"/api/v1/sms/kannel/incoming?secret={SECRET}", data=b"HELP",
                              headers={"X-Kannel-From": "447700900001",
                                       "Content-Type": "text/plain; charset=nonsense"})
    assert odd_charset.status_code == 400
    assert client.post(f"/api/v1/sms/other/incoming?secret={SECRET}").status_code == 404
    # get-url style works too; a sender that is no number at all is just not a member.
    ok = client.get(f"/api/v1/sms/kannel/incoming?secret={SECRET}&from=447700900001&text=HELP")
    assert ok.status_code == 200 and last_reply().startswith("Send CHECK")
    assert text_in(client, "Vodafone", "HELP").status_code == 200
    assert text_in(client, "x" * 500, "HELP").status_code == 200
    # UTF-16 from the gateway (UCS-2 texts) is read in the charset it names.
    utf16 = client.post(f"/api/v1/sms/kannel/incoming?secret={SECRET}",
                        data="áreas".encode("utf-16-be"),
                        headers={"X-Kannel-From": "447700900001",
                                 "Content-Type": 'text/plain; charset="UTF-16BE"'})
    assert utf16.status_code == 200 and last_reply().startswith("Your areas")
    app.config["SMS_GATEWAY"] = ""
    assert text_in(client, "447700900001", "HELP").status_code == 404


def test_delivery_reports_are_recorded(client, app, areas):
    enrol("07700 900001")
    publish()
    row, _ = queued("alert")[0]
    url = f"/api/v1/sms/kannel/report?secret={SECRET}&ref={row.id}"
    assert client.get(url + "&status=8").status_code == 200
    assert client.get(url + "&status=2").status_code == 200
    db.session.expire_all()
    row = db.session.get(SmsDelivery, row.id)
    assert row.report == "undelivered" and row.last_error == "gateway report: undelivered"
    # Reports can arrive out of order: a late "accepted" never hides "delivered".
    assert client.get(url + "&status=1").status_code == 200
    assert client.get(url + "&status=8").status_code == 200
    db.session.expire_all()
    assert db.session.get(SmsDelivery, row.id).report == "delivered"
    for bad in ("&status=3", "&status=x", ""):
        assert client.get(url + bad).status_code == 400
    assert client.get(f"/api/v1/sms/kannel/report?secret={SECRET}&status=1").status_code == 400
    assert client.get(f"/api/v1/sms/kannel/report?secret={SECRET}&ref=abc&status=1").status_code == 200
    assert client.get(f"/api/v1/sms/kannel/report?secret=no&ref={row.id}&status=1").status_code == 403


# --- Every language of the texts ------------------------------------------------------------

from server.sms import texts  # noqa: E402

SMS_LANGUAGES = sorted(texts.languages())


def test_texts_come_in_all_ten_app_languages():
    from pathlib import Path
    web = Path(__file__).resolve().parents[2] / "web" / "locales"
    assert SMS_LANGUAGES == sorted(p.stem for p in web.glob("*.json"))


@pytest.mark.parametrize("language", SMS_LANGUAGES)
def test_every_sms_catalogue_has_the_english_keys_and_placeholders(language):
    english, words = texts.catalogue("en"), texts.catalogue(language)
    assert list(words) == list(english)
    for key, text in english.items():
        if key.startswith("commands."):
            command = key[len("commands."):]
            assert words[key] and all(isinstance(w, str) and w.strip() for w in words[key]), key
            # Each keyword means its own command in that language, and no other.
            for keyword in words[key]:
                assert texts.parse_command(f"{keyword} 12", language) == (command, "12"), keyword
        else:
            assert sorted(texts._PLACEHOLDER.findall(words[key])) == sorted(
                texts._PLACEHOLDER.findall(text)), key


def _literal_parts(template):
    """The words of a template around its {placeholders}: what any text from it contains."""
    return [part.strip() for part in texts._PLACEHOLDER.split(template)[::2] if part.strip()]


@pytest.mark.parametrize("language", SMS_LANGUAGES)
def test_member_in_each_language_gets_alerts_and_checks_in_it(app, client, areas, language):
    from server.sms.sender import load_jobs
    member = enrol("07700 900003", language=language, style="detailed")
    alert = publish(identifiers=[PHONE], title="Robbery by a man met online")
    words = texts.catalogue(language)
    ref = str(service.alert_ref(alert.id))

    ids = [row.id for row, _ in queued("alert")]
    [job] = load_jobs(db.session, ids, service.utcnow(), "Redflag")
    assert job.to == "+447700900003"
    for part in _literal_parts(words["alert.detailed"]):
        assert part in job.text, (part, job.text)
    for key in ("severity.dangerous", "incident.robbery", "identifier.phone"):
        assert words[key] in job.text, (key, job.text)
    if language != "en":
        assert "Reply READ" not in job.text and "Phone" not in job.text

    # CHECK in the member's language, each keyword in any case (ASCII ones included),
    # and the English CHECK as everywhere.
    keywords = words["commands.check"] + ["CHECK"]
    for keyword in keywords:
        assert text_in(client, "447700900003", f"{keyword.lower()} 07700 900123").status_code == 200
        reply = last_reply()
        assert "Robbery by a man met online" in reply and ref in reply, (keyword, reply)
        for part in _literal_parts(words["check.found"]):
            assert part in reply, (keyword, part, reply)
    # Chinese and Thai are typed without spaces: a keyword straight before the number.
    text_in(client, "447700900003", words["commands.check"][0] + "07700900123")
    assert ref in last_reply() and "Robbery by a man met online" in last_reply()
    db.session.expire_all()
    assert member.member.check_count == len(keywords) + 1
    text_in(client, "447700900003", words["commands.help"][0])
    assert last_reply() == words["help"]
