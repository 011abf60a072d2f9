"""End to end through the real gateway: Kannel's bearerbox and smsbox with a fake SMSC,
and Kannel's fakesmsc as the phones. An outreach worker enrols numbers, a moderator
publishes, the phones get exactly one text each in their language; texts sent from a
phone get their answers; STOP stops texts; the gateway's refusals are recorded."""
from datetime import timedelta

import pytest

from server.accounts.models import Staff
from server.clock import utc
from server.demo import load_demo_content
from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery
from server.sms.sender import Sender

from .conftest import enrol, kannel_settings, publish, sender_thread
from pushservice import refusing_port
from waiting import wait_until

SPANISH, ENGLISH, CAMDEN = "+447700900101", "+447700900102", "+447700900103"


@pytest.fixture
def app_config(app_config, kannel):
    return {**app_config, **kannel_settings(kannel)}


@pytest.fixture
def gateway(app, kannel):
    kannel.callbacks.app = app
    kannel.phones.clear()
    yield kannel
    kannel.phones.settle(quiet=0.3)
    kannel.callbacks.app = None


def sent_rows():
    db.session.expire_all()
    return db.session.execute(db.select(SmsDelivery).order_by(SmsDelivery.id)).scalars().all()


def test_drop_in_to_phone_one_text_each_in_its_language_and_check_by_text(app, areas, outreach,
                                                                          gateway):
    phones = gateway.phones
    for number, area, language in ((SPANISH, "hackney", "es"), (ENGLISH, "hackney", "en"),
                                   (CAMDEN, "camden", "en")):
        response = outreach.post("/sms/members", json={
            "phone": number, "areas": [area], "language": language, "consent": True})
        assert response.status_code == 201, response.get_json()
    with sender_thread(app):
        # The demo moderator publishes the demo alert (Hackney, naming 07700 900123).
        moderator = Staff(username="demo", password_hash="x", role="moderator")
        db.session.add(moderator)
        db.session.commit()
        load_demo_content(moderator)
        assert phones.wait_for(2) == 2
        phones.settle(quiet=0.5)
        assert phones.to(SPANISH) == ["Nuevo mensaje de seguridad de Redflag. Responde LEER 1"]
        assert phones.to(ENGLISH) == ["New safety message from Redflag. Reply READ 1"]
        assert phones.to(CAMDEN) == []
        assert len(phones.received) == 2
        assert {sender for sender, _, _ in phones.received} == {"12345"}

        # Texting CHECK from the Spanish phone returns the demo warning, in Spanish.
        phones.text_in("447700900101", "COMPROBAR 07700 900123")
        assert phones.wait_for(3) == 3
        assert phones.to(SPANISH)[-1] == (
            "ALERTA para 07700 900123: Demo: robbery by a man met online. "
            "Responde LEER 1 para la alerta completa.")
        phones.text_in("447700900102", "read 1")
        assert phones.wait_for(4) == 4
        assert phones.to(ENGLISH)[-1].startswith(
            "Demo: robbery by a man met online (DANGEROUS, Hackney). Robbery, physical assault.")
        # A phone that is not a member gets nothing.
        phones.text_in("447700900999", "CHECK 07700 900123")
        phones.settle(quiet=1.0)
        assert phones.to("+447700900999") == [] and len(phones.received) == 4

        # STOP: no more alert texts for that phone, until START.
        phones.text_in("447700900102", "STOP")
        assert phones.wait_for(5) == 5
        assert phones.to(ENGLISH)[-1].startswith("You will get no more warnings")
        publish(title="Second warning")
        assert phones.wait_for(6) == 6
        phones.settle(quiet=0.5)
        assert phones.to(SPANISH)[-1] == "Nuevo mensaje de seguridad de Redflag. Responde LEER 2"
        assert len(phones.to(ENGLISH)) == 3 and len(phones.received) == 6
    # Every text was handed over once; Kannel's delivery reports came back for each.
    rows = sent_rows()
    assert {row.status for row in rows} == {"sent"}
    assert all(row.text_encrypted is None and row.to_encrypted is None for row in rows)
    wait_until(lambda: all(row.report == "delivered" for row in sent_rows()),
               message=lambda: [(r.id, r.kind, r.report) for r in sent_rows()])


class Clock:
    def __init__(self):
        self.now = service.utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def test_gateway_refusals_are_retried_with_backoff_then_recorded_as_failed(app, areas, gateway):
    enrol("07700 900001")
    publish()
    app.config.update(SMS_KANNEL_PASSWORD="wrong", SMS_MAX_ATTEMPTS=3, SMS_RETRY_BASE_SECONDS=30)
    clock = Clock()
    run = lambda: Sender(app, clock=clock).run_once()  # noqa: E731
    assert run()["retry"] == 1
    (row,) = sent_rows()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("HTTP 403"), row.last_error
    assert utc(row.next_attempt_at) == clock.now + timedelta(seconds=30)
    assert run() == {"sent": 0, "retry": 0, "gone": 0, "failed": 0}  # not due yet
    clock.advance(31)
    # Kannel not running there: a network error, retried the same way.
    with refusing_port() as port:
        app.config["SMS_KANNEL_SENDSMS_URL"] = f"http://127.0.0.1:{port}/cgi-bin/sendsms"
        assert run()["retry"] == 1
    (row,) = sent_rows()
    assert row.attempts == 2 and row.last_error == "network: ConnectionRefusedError"
    assert utc(row.next_attempt_at) == clock.now + timedelta(seconds=60)
    clock.advance(61)
    assert run()["failed"] == 1
    (row,) = sent_rows()
    assert (row.status, row.attempts) == ("failed", 3)
    assert gateway.phones.received == []
    # Set right again, the next alert goes out.
    app.config.update(kannel_settings(gateway))
    publish(title="Next")
    assert run()["sent"] == 1
    assert gateway.phones.wait_for(1) == 1


def test_publishing_and_texts_coming_in_wake_the_sender_at_once(app, areas, gateway):
    enrol("07700 900001")
    phones = gateway.phones
    # A 30 s poll: only the wake-up can bring these in time.
    with sender_thread(app, poll_seconds=30):
        import time
        time.sleep(0.5)  # the sender is idle, waiting
        publish()
        assert phones.wait_for(1, timeout=5) == 1
        phones.text_in("447700900001", "HELP")
        assert phones.wait_for(2, timeout=8) == 2
    assert phones.to("+447700900001")[-1].startswith("Send CHECK")
