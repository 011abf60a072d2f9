"""A Kannel configuration that fits Redflag: `flask sms kannel-config` prints it, and the
tests run Kannel with it (so the documented setup is the tested one)."""
import secrets
from urllib.parse import quote


def kannel_config(*, callback_url, secret, username, password, admin_password=None,
                  admin_port=13000, smsbox_port=13001, sendsms_port=13013, smsc=None, log_dir=None,
                  log_level=2):
    """The text of a kannel.conf: bearerbox, smsbox, one sendsms user, and the
    sms-service that hands every incoming text to Redflag.

    `smsc`: the lines of the operator's `group = smsc` (default: Kannel's fake SMSC on
    port 10000, for trying it out with fakesmsc). log_level 2 (warnings) keeps texts and
    numbers out of Kannel's logs; Kannel logs each text it handles at level 1 and below."""
    smsc = smsc or "smsc = fake\nsmsc-id = fake\nport = 10000\nconnect-allow-ip = 127.0.0.1"
    def logs(name):
        if log_dir:
            return f'log-file = "{log_dir}/{name}.log"\nlog-level = {log_level}\n'
        return f"log-level = {log_level}\n"

    incoming = f"{callback_url.rstrip('/')}/api/v1/sms/kannel/incoming?secret={quote(secret, safe='')}"
    return f"""# Kannel for Redflag. Start `bearerbox kannel.conf`, then `smsbox kannel.conf`.
group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = {admin_password or secrets.token_urlsafe(16)}
smsbox-port = {smsbox_port}
box-allow-ip = 127.0.0.1
dlr-storage = internal
{logs("bearerbox")}
group = smsc
{smsc}

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
{logs("smsbox")}
# Redflag's sender hands texts over here (SMS_KANNEL_USERNAME / SMS_KANNEL_PASSWORD).
group = sendsms-user
username = {username}
password = {password}
user-allow-ip = 127.0.0.1
# A long text (READ of a long alert) goes as up to 4 joined parts.
max-messages = 4
concatenation = true

# Every text that comes in goes to Redflag, the sender in the X-Kannel-From header, never
# in a URL. max-messages = 0: Kannel sends no reply itself; Redflag queues its replies.
group = sms-service
keyword = default
post-url = "{incoming}"
send-sender = true
max-messages = 0
"""
