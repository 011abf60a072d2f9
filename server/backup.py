"""Backups that restore: `flask backup create` and `flask backup restore`.

A backup is one tar file (mode 0600) holding everything a deployment needs besides the code:

    manifest.json       {"format": 1, "engine", "created_at", "revision", "counts": {table: rows}}
    database.sqlite3    SQLite: a copy made with SQLite's online backup API (a consistent
                        snapshot while the app keeps writing: WAL readers never block writers)
    database.pgdump     PostgreSQL: `pg_dump --format=custom` (one consistent snapshot)
    vapid_private.pem   the VAPID key: without it every push subscription is lost
    secrets.env         SECRET_KEY (receipts, invite codes) and CONTACT_KEY (the key(s) that
                        decrypt reporter contact details; derived ones written out)

The file is as sensitive as the database and its keys together: encrypt it (age, gpg) before
it leaves the machine, and keep it where the database's own backups may be kept.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from .crypto import contact_key_setting
from .extensions import db

FORMAT = 1


class BackupError(click.ClickException):
    pass


def _engine_name(url):
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url):
    return Path(sa.engine.make_url(url).database)


def _libpq(url):
    """(connection string without the password, env with PGPASSWORD) for pg_dump/pg_restore:
    a password never sits on a command line other users can read."""
    parsed = sa.engine.make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(argv, env=None):
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client)")
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()}")


def _counts():
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    db.session.rollback()
    return counts


def _revision():
    try:
        return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        db.session.rollback()
        return None


def create_backup(destination, include_secrets=True):
    """Write a backup of the app's database and keys to `destination` (a file path, or a
    folder to put redflag-backup-<UTC time>.tar in). Safe while the app runs.
    include_secrets=False leaves out secrets.env, for operators who keep SECRET_KEY and
    CONTACT_KEY in a separate vault. -> (path, manifest)."""
    config = current_app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    engine = _engine_name(url)
    destination = Path(destination)
    created = datetime.now(UTC)
    if destination.is_dir():
        destination = destination / f"redflag-backup-{created:%Y%m%dT%H%M%SZ}.tar"
    with tempfile.TemporaryDirectory(prefix="redflag-backup-") as work:
        work = Path(work)
        # Counted before the snapshot: the dump holds at least these rows.
        manifest = {"format": FORMAT, "engine": engine, "created_at": created.isoformat(),
                    "revision": _revision(), "counts": _counts()}
        if engine == "sqlite":
            source = sqlite3.connect(_sqlite_path(url), timeout=30)
            target = sqlite3.connect(work / "database.sqlite3")
            try:
                source.execute("PRAGMA busy_timeout=30000")
                source.backup(target)
            finally:
                target.close()
                source.close()
            database = "database.sqlite3"
        else:
            dsn, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={work / 'database.pgdump'}", f"--dbname={dsn}"], env)
            database = "database.pgdump"
        vapid = Path(config["VAPID_PRIVATE_KEY_FILE"])
        if vapid.exists():
            shutil.copyfile(vapid, work / "vapid_private.pem")
        if include_secrets:
            (work / "secrets.env").write_text(
                f"SECRET_KEY={config['SECRET_KEY']}\nCONTACT_KEY={contact_key_setting(config)}\n")
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = destination.with_name(destination.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w") as tar:
            for name in ("manifest.json", database, "vapid_private.pem", "secrets.env"):
                if (work / name).exists():
                    tar.add(work / name, arcname=name)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(destination)  # a crash never leaves a half backup under the real name
    return destination, manifest


def _database_is_empty():
    return not sa.inspect(db.engine).get_table_names()


def restore_backup(source, secrets_path):
    """Restore a backup into the app's (empty) database and VAPID key file; write the
    backup's SECRET_KEY and CONTACT_KEY to `secrets_path` (0600) for the service's
    environment. -> the manifest. Refuses a database that has tables, or a different VAPID
    key in place."""
    config = current_app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    engine = _engine_name(url)
    if not _database_is_empty():
        raise BackupError("The database is not empty: restore into a new, empty database.")
    db.engine.dispose()
    with tempfile.TemporaryDirectory(prefix="redflag-restore-") as work, \
            tarfile.open(source, mode="r") as tar:
        work = Path(work)
        tar.extractall(work, filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
        if manifest["engine"] != engine:
            raise BackupError(f"This is a {manifest['engine']} backup; the app is set up for "
                              f"{engine}. Restore it into a {manifest['engine']} database.")
        if engine == "sqlite":
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            source_db = sqlite3.connect(work / "database.sqlite3")
            target = sqlite3.connect(path)
            try:
                source_db.backup(target)
                target.execute("PRAGMA journal_mode=WAL")
            finally:
                target.close()
                source_db.close()
        else:
            dsn, env = _libpq(url)
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  "--single-transaction", f"--dbname={dsn}", str(work / "database.pgdump")], env)
        key = work / "vapid_private.pem"
        if key.exists():
            target_key = Path(config["VAPID_PRIVATE_KEY_FILE"])
            if target_key.exists() and target_key.read_bytes() != key.read_bytes():
                raise BackupError(f"{target_key} holds another VAPID key: move it away first.")
            target_key.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(key.read_bytes())
        if (work / "secrets.env").exists():
            secrets_path = Path(secrets_path)
            secrets_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write((work / "secrets.env").read_text())
            manifest["secrets"] = str(secrets_path)
    return manifest


@click.group()
def backup():
    """Back up and restore the database, the VAPID key and the secrets."""


@backup.command("create")
@click.argument("destination", type=click.Path(), default=".")
@click.option("--no-secrets", is_flag=True,
              help="Leave SECRET_KEY and CONTACT_KEY out (you keep them elsewhere)")
@with_appcontext
def create_command(destination, no_secrets):
    """Write a backup tar (0600) to DESTINATION (a file, or a folder; default: here).
    Safe while the app and the sender run."""
    path, manifest = create_backup(destination, include_secrets=not no_secrets)
    counts = manifest["counts"]
    click.echo(f"{path}: {counts.get('report', 0)} reports, {counts.get('alert', 0)} alerts, "
               f"{counts.get('member', 0)} members, {counts.get('subscription', 0)} subscriptions")


@backup.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--secrets", "secrets_path", type=click.Path(dir_okay=False),
              help="Where to write SECRET_KEY and CONTACT_KEY (default: secrets.env in the "
                   "instance folder)")
@with_appcontext
def restore_command(source, secrets_path):
    """Restore SOURCE into the configured, empty database and the VAPID key file."""
    from .config import INSTANCE_DIR
    secrets_path = secrets_path or Path(INSTANCE_DIR) / "secrets.env"
    manifest = restore_backup(source, secrets_path)
    click.echo(f"Restored the backup of {manifest['created_at']} ({manifest['engine']}).")
    if manifest.get("secrets"):
        click.echo(f"Its SECRET_KEY and CONTACT_KEY are in {manifest['secrets']}: set them in "
                   "the app's and the sender's environment before starting them.")
    else:
        click.echo("The backup holds no secrets: start the app with the SECRET_KEY and "
                   "CONTACT_KEY it ran with.")
