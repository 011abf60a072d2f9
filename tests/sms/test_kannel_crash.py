"""SIGKILL the SMS sender (`flask sms worker`, a real process) midway through 500 alert
texts, restart it, and count at the phones: every member gets the text, and only the
texts handed over since the last commit (at most SMS_RECORD_EVERY) can arrive twice."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.extensions import db
from server.sms import service
from server.sms.models import SmsDelivery

from .conftest import enrol_many, kannel_settings, publish

MEMBERS = 500
RECORD_EVERY = 8
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config, kannel):
    return {**app_config, **kannel_settings(kannel, reports=False)}


def start_worker(app, tmp_path, kannel):
    env = {**os.environ, "FLASK_APP": "server", "REDFLAG_INSTANCE": str(tmp_path),
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "SMS_GATEWAY": "kannel",
           "SMS_GATEWAY_SECRET": app.config["SMS_GATEWAY_SECRET"],
           "SMS_RECORD_EVERY": str(RECORD_EVERY), "SMS_LEASE_SECONDS": "3",
           "SMS_TIMEOUT_SECONDS": "1", "SMS_POLL_SECONDS": "0.1"}
    env.update({k: str(v) for k, v in kannel_settings(kannel, reports=False).items()})
    log = open(tmp_path / "worker.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "flask", "sms", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=log)


def counts():
    db.session.expire_all()
    return dict(db.session.execute(
        db.select(SmsDelivery.status, db.func.count()).group_by(SmsDelivery.status)).all())


def test_sigkill_midway_through_500_texts_loses_none_and_repeats_at_most_one_group(
        app, areas, kannel, tmp_path, record_property):
    kannel.callbacks.app = app
    phones = kannel.phones
    phones.clear()
    numbers = [f"+4477009{i:05d}" for i in range(MEMBERS)]
    enrol_many(numbers)
    alert = publish()
    assert service.delivery_counts(alert.id)["queued"] == MEMBERS

    worker = start_worker(app, tmp_path, kannel)
    try:
        deadline = time.monotonic() + 60
        while counts().get("sent", 0) < MEMBERS // 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = counts().get("sent", 0)
        assert killed_at < MEMBERS, "the sender finished before it could be killed"
        worker = start_worker(app, tmp_path, kannel)
        deadline = time.monotonic() + 60
        while counts().get("sent", 0) < MEMBERS and time.monotonic() < deadline:
            time.sleep(0.2)
        phones.settle(quiet=1.0)
    finally:
        worker.terminate()
        worker.wait(10)
        kannel.callbacks.app = None
    assert counts() == {"sent": MEMBERS}, (tmp_path / "worker.log").read_text()[-3000:]
    got = [to for _sender, to, _text in phones.received]
    assert set(got) == set(numbers), "a text was lost"
    repeated = len(got) - MEMBERS
    record_property("sms_repeated_after_sigkill", repeated)
    print(f"\nSIGKILL after {killed_at} of {MEMBERS} texts recorded: {repeated} repeated")
    assert 0 <= repeated <= RECORD_EVERY
