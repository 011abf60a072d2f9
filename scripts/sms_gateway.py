"""A phone network on this machine, to try alerts by text with `make run`: Kannel's
bearerbox and smsbox with a fake SMSC, and Kannel's fakesmsc as the phones (the same
setup the tests use, tests/kannel.py), on free ports.

It prints the settings for the Redflag server, then every text the phones receive; a
line you type, "NUMBER TEXT" ("07700900001 CHECK 07700 900123"), is sent as a text from
that phone. Ctrl-C stops it all.

    make sms-gateway                                   # terminal 1
    set -a; . instance/sms-gateway.env; make run       # terminal 2
"""
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from kannel import GATEWAY_NUMBER, PASSWORD, USERNAME, installed, running_kannel  # noqa: E402

CALLBACK = f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"  # `make run`'s address


def _interrupt(*_):
    # SIGTERM as Ctrl-C: Kannel and fakesmsc are stopped on the way out either way.
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, _interrupt)
    if not installed():
        sys.exit("Kannel is not installed: run `make kannel` first.")
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="redflag-sms-gateway-") as tmp, \
            running_kannel(Path(tmp), CALLBACK, secret) as kannel:
        settings = {"SMS_GATEWAY": "kannel", "SMS_GATEWAY_SECRET": secret,
                    "SMS_KANNEL_SENDSMS_URL": kannel.sendsms_url, "SMS_KANNEL_USERNAME": USERNAME,
                    "SMS_KANNEL_PASSWORD": PASSWORD, "SMS_FROM": GATEWAY_NUMBER,
                    "SMS_CALLBACK_URL": CALLBACK}
        env = ROOT / "instance" / "sms-gateway.env"
        env.parent.mkdir(exist_ok=True)
        env.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        print(f"Kannel is up. Settings for the server written to {env.relative_to(ROOT)}:")
        print("    set -a; . instance/sms-gateway.env; make run")
        print("Type NUMBER TEXT to text in from a phone, e.g.: 07700900001 CHECK 07700 900123\n")

        def show():
            seen = 0
            while True:
                while seen < len(kannel.phones.received):
                    sender, to, text = kannel.phones.received[seen]
                    print(f"[to {to}] {text}", flush=True)
                    seen += 1
                time.sleep(0.1)
        threading.Thread(target=show, daemon=True).start()
        try:
            for line in sys.stdin:
                number, _, text = line.strip().partition(" ")
                if number and text:
                    kannel.phones.text_in(number, text)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
