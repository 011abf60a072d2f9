"""Secrets at rest, encrypted with Fernet (AES-128-CBC + HMAC-SHA256): reporter contact
details, and staff TOTP secrets (whoever reads a database backup must not be able to make
second-factor codes).

The key is CONTACT_KEY when set: one or more Fernet keys, comma-separated; the first
encrypts and every one decrypts, so a deployer can rotate keys. Without it, the key is
derived from SECRET_KEY with HKDF, which ties the contact details to SECRET_KEY: change
one and the old contact details can no longer be read. Production setups should set
CONTACT_KEY (make one with `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`). `flask backup create` puts it beside the database in
one encrypted-at-rest-by-the-operator file (or leaves it out with --no-secrets).
"""
import base64
import functools
import json

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

HKDF_INFO = b"redflag contact details v1"


def contact_key_setting(config):
    """The CONTACT_KEY value that reads every stored contact detail: the configured keys,
    or the one derived from SECRET_KEY. For backups, so a restore needs no derivation."""
    keys = [k.strip() for k in (config.get("CONTACT_KEY") or "").split(",") if k.strip()]
    if keys:
        return ",".join(keys)
    return _derived_key(config["SECRET_KEY"])


@functools.lru_cache(maxsize=16)
def _derived_key(secret_key):
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=HKDF_INFO).derive(secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(derived).decode("ascii")


@functools.lru_cache(maxsize=16)
def _cipher(setting):
    return MultiFernet([Fernet(key) for key in setting.split(",")])


def contact_cipher(config=None):
    """The MultiFernet of the configured keys. Made once per key setting, not per call:
    the derivation (HKDF) and key parsing cost more than encrypting one contact."""
    return _cipher(contact_key_setting(config if config is not None else current_app.config))


def encrypt_contact(details, config=None):
    """A dict of contact details -> Fernet token (bytes) for Report.contact_encrypted."""
    plain = json.dumps(details, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return contact_cipher(config).encrypt(plain)


def decrypt_contact(token, config=None):
    """The dict that encrypt_contact was given. Raises cryptography's InvalidToken when
    the key does not fit (SECRET_KEY or CONTACT_KEY changed without keeping the old key)."""
    return json.loads(contact_cipher(config).decrypt(bytes(token)).decode("utf-8"))


def encrypt_text(text, config=None):
    """A short secret (a TOTP secret), or text someone wrote (case notes and messages,
    disputes) -> Fernet token as ASCII text, for a String or Text column."""
    return contact_cipher(config).encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_text(token, config=None):
    """The text that encrypt_text was given. Raises InvalidToken when the key does not fit."""
    return contact_cipher(config).decrypt(token.encode("ascii")).decode("utf-8")


def check_contact_key(value):
    """Problems with a CONTACT_KEY setting, for ProductionConfig.check()."""
    problems = []
    for key in (k.strip() for k in value.split(",")):
        try:
            Fernet(key)
        except ValueError:
            problems.append("CONTACT_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
                            "comma-separated")
            break
    return problems
