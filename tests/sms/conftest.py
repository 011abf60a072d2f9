"""Text-message fixtures: staff, text members, alerts, texts coming in through the
gateway route, and what the sender would hand over (read from the durable rows)."""
import threading
from contextlib import contextmanager

import pytest
from kannel import GATEWAY_NUMBER, PASSWORD, USERNAME, installed, running_kannel

from server.alerts import service as alerts
from server.areas.service import area_by_slug
from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery
from server.sms.sender import run_in_thread

from factories import StaffClient

SECRET = "test-gateway-secret-0123456789abcdef"
DEMO_NUMBER = "07700 900123"


@pytest.fixture
def app_config(database_url):
    return {"PASSWORD_HASH_FAST": True, "SMS_GATEWAY": "kannel", "SMS_GATEWAY_SECRET": SECRET,
            "SMS_KANNEL_PASSWORD": "kannel-test-password", "SMS_PROJECT_NAME": "Redflag"}


@pytest.fixture
def outreach(app):
    return StaffClient(app, "van", "outreach")


@pytest.fixture
def moderator(app):
    return StaffClient(app, "mod", "moderator")


def enrol(phone, areas=("hackney",), language="en", style="neutral"):
    return service.enrol(None, phone, list(areas), language, style)


def enrol_many(numbers, area="hackney"):
    """Many text members in one commit (setup for the crash test), as enrol() makes them."""
    from server.accounts.models import Member
    from server.areas.service import area_by_slug
    from server.security import hash_token, new_token
    from server.sms.models import SmsMember
    chosen = area_by_slug(area)
    for number in numbers:
        e164 = service.normalise_number(number)
        db.session.add(SmsMember(member=Member(token_hash=hash_token(new_token())),
                                 number_hash=service.number_hash(e164),
                                 number_encrypted=service.encrypt(e164), language="en",
                                 style="neutral", areas=[chosen]))
    db.session.commit()


def publish(areas=("hackney",), identifiers=(), title="Man posing as police",
            summary="Took money at the door.", severity="dangerous"):
    alert = alerts.new_alert(title=title, summary=summary, severity=severity,
                             incident_types=["posing_as_police", "robbery"],
                             areas=[area_by_slug(slug) for slug in areas],
                             identifiers=list(identifiers))
    db.session.commit()
    alerts.publish(alert)
    from server.identifiers.service import index_alert
    index_alert(alert)
    db.session.commit()
    return alert


def text_in(client, sender, text, secret=SECRET):
    """A text that came in, as Kannel's post-url delivers it."""
    return client.post(f"/api/v1/sms/kannel/incoming?secret={secret}", data=text.encode(),
                       headers={"X-Kannel-From": sender,
                                "Content-Type": 'text/plain; charset="UTF-8"'})


def queued(kind=None):
    """[(SmsDelivery, text to send or None)] in id order."""
    query = db.select(SmsDelivery).order_by(SmsDelivery.id)
    if kind:
        query = query.filter_by(kind=kind)
    db.session.expire_all()
    return [(row, service.decrypt(row.text_encrypted) if row.text_encrypted else None)
            for row in db.session.execute(query).scalars()]


def last_reply():
    replies = queued("reply")
    return replies[-1][1] if replies else None


# --- The real gateway -------------------------------------------------------------------

class Callbacks:
    """A real HTTP server for Kannel's calls into Redflag (incoming texts, delivery
    reports), serving whichever app the current test made."""

    def __init__(self):
        from werkzeug.serving import make_server
        self.app = None

        def dispatch(environ, start_response):
            if self.app is None:
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            return self.app(environ, start_response)

        self.server = make_server("127.0.0.1", 0, dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def kannel(tmp_path_factory):
    """Kannel (bearerbox + smsbox + fake SMSC) and fakesmsc, for the whole session."""
    if not installed():
        pytest.fail("Kannel is not installed: run `make test` (it installs kannel and "
                    "kannel-extras), or apt-get install kannel kannel-extras")
    callbacks = Callbacks()
    try:
        with running_kannel(tmp_path_factory.mktemp("kannel"), callbacks.url, SECRET) as running:
            running.callbacks = callbacks
            yield running
    finally:
        callbacks.close()


def kannel_settings(kannel, reports=True):
    return {"SMS_KANNEL_SENDSMS_URL": kannel.sendsms_url, "SMS_KANNEL_USERNAME": USERNAME,
            "SMS_KANNEL_PASSWORD": PASSWORD, "SMS_FROM": GATEWAY_NUMBER,
            "SMS_CALLBACK_URL": kannel.callbacks.url if reports else "",
            "SMS_POLL_SECONDS": 0.1, "SMS_TIMEOUT_SECONDS": 5}


@contextmanager
def sender_thread(app, **overrides):
    """The SMS sender running in a thread of this process, stopped on exit."""
    stop = threading.Event()
    thread = run_in_thread(app, stop, **overrides)
    try:
        yield thread
    finally:
        stop.set()
        thread.join(20)
