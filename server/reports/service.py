"""Storing reports exactly once, and telling a reporter what became of theirs.

A report's id is made on the device, so the database's primary key is what makes a
resend harmless: we try the INSERT and let the key decide, never check-then-insert
(two requests could both pass the check). A report is committed before we answer, so an
acknowledged report survives a crash; a sync batch commits once, each item in its own
SAVEPOINT.
"""
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import threading
import uuid
from datetime import timedelta

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from ..areas.service import known_area_id
from ..cases.service import has_case, open_cases, unread_for_reporter
from ..clock import utcnow
from ..crypto import encrypt_contact
from ..errors import NotFound, field_messages
from ..extensions import db
from ..identifiers.models import Identifier
from ..identifiers.service import identifier_rows, index_report, read_phones
from ..schemas import quick_loader
from ..security import keyed_digest, same
from .models import LEGACY_POLICE_CONSENT, STATUSES, Report
from .schemas import ReportSchema
from .status import INITIAL

CREATED, DUPLICATE, CONFLICT = "created", "duplicate", "conflict"
# One instance for every item: building a schema (with its nested ones) cost more than
# loading an item with it. A marshmallow schema keeps no state between loads.
REPORT_SCHEMA = ReportSchema()
# REPORT_SCHEMA.load for one sync item: the same answer, about 5x faster on valid items
# (server/schemas.py quick_loader); what it doubts, marshmallow loads.
load_report = quick_loader(REPORT_SCHEMA)
CONFLICT_MESSAGE = "A different report with this id was already received."
RECEIPT_CHARS = 26  # base32: 130 bits


def content_hash(data):
    """SHA-256 of the canonical JSON of a validated payload (id included)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)  # UUID -> its canonical text, date -> YYYY-MM-DD
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def receipt_for(report_id):
    """The reporter's receipt, derived from the id under SECRET_KEY, so a resend gets the
    same receipt back without the receipt ever being stored."""
    digest = keyed_digest(current_app.config["SECRET_KEY"], "receipt", str(report_id))
    # 26 base32 characters carry the first 130 bits: encoding 20 bytes (160 bits) gives
    # the same first 26 as encoding all 32, for less work.
    return base64.b32encode(digest[:20]).decode("ascii")[:RECEIPT_CHARS]


def receipt_hash(receipt):
    return hashlib.sha256(receipt.encode("utf-8")).hexdigest()


def _report_row(data, member, filed_by=None, receipt=None, digest=None):
    """(the column values of a new report from a validated payload, its receipt).
    receipt, digest: receipt_for() and content_hash() of it, when already made."""
    area_id = known_area_id(data["area"])  # UnknownAreas if deleted since validation
    consent = data.get("consent") or {}
    support = data.get("support") or {}
    contact = support.get("contact")
    if receipt is None:
        receipt = receipt_for(data["id"])
    return dict(
        id=data["id"],
        content_hash=digest if digest is not None else content_hash(data),
        receipt_hash=receipt_hash(receipt),
        status=INITIAL,
        occurred_on=data["occurred_on"],
        part_of_day=data.get("part_of_day"),
        area_id=area_id,
        incident_types=list(data["incident_types"]),
        description=data["description"],
        offender=data.get("offender") or {},
        consent_publish=consent.get("publish", True),
        # An earlier app's level is stored as the nearest one that widens nothing; the
        # content hash above keeps the level as sent, so a resend is still a duplicate.
        consent_police=LEGACY_POLICE_CONSENT.get(consent.get("police", "none"),
                                                 consent.get("police", "none")),
        support_requested=support.get("requested", False),
        support_come_back=support.get("come_back", False),
        perpetrator=data.get("perpetrator"),
        targeted_because=list(data["targeted_because"]) if data.get("targeted_because") else None,
        # Nothing of the contact details is kept in clear.
        contact_encrypted=encrypt_contact(contact) if contact else None,
        member_id=member.id if member is not None else None,
        on_behalf=data.get("on_behalf", False),
        # Which outreach worker filed it on someone's behalf (drop-in mode), when a staff
        # session came with the request; never part of the content hash.
        staff_id=filed_by.id if filed_by is not None and data.get("on_behalf") else None,
    ), receipt


def _insert(row, identifiers=None):
    """INSERT the report and its identifiers. A plain INSERT: the primary key, not a
    prior SELECT, decides who was first. Raises IntegrityError when the id is taken.
    Core statements on the tables (not the ORM's bulk path, which costs more than the
    INSERT itself here), and no DELETE of identifiers a new report cannot have."""
    db.session.execute(Report.__table__.insert(), row)
    index_report(row["id"], row["offender"], new=True, rows=identifiers)
    # In the same transaction: a report that asks for support is never without its case.
    open_cases([row])


def _existing_outcome(row):
    """After the id was found taken: DUPLICATE or CONFLICT, and the stored report."""
    report = db.session.get(Report, row["id"], populate_existing=True)
    if report is None:
        raise RuntimeError("report insert failed, and not on its id")
    return (DUPLICATE if same(report.content_hash, row["content_hash"]) else CONFLICT), report


# SQLite takes one writer at a time. A writer that finds its lock taken waits in SQLite's
# busy handler, which sleeps between tries (1, 2, 5, ... up to 100 ms), so a waiter often
# sleeps on long after the lock was freed: under load, 4 threads syncing batches spent
# most of their time asleep that way (p99 2.6 s for a 25 ms batch). Report writers queue
# instead, each starting the moment the one before it commits: the threads of a process
# on a lock of the process, and the processes (several gunicorn workers, `flask`
# commands) on an flock of a file beside the database, which the kernel hands to the
# next waiter when it is released (or when its holder dies). The flock is taken only by
# a thread that holds the process's lock: flock does not tell one thread of a process
# from another (they share the open file).
_SQLITE_WRITER = threading.Lock()
_WRITER_FILES = {}  # (process id, lock file path) -> file descriptor; see _writer_file


def writer_lock_path(database):
    """The lock file report writers of every process queue on, beside the SQLite
    database file `database` (a path); None for a database in memory (one process)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + ".writers"


def _writer_file(path):
    # One open file per process, kept open: a file opened before a fork is shared with
    # the child, and two processes locking the same open file would not exclude each other.
    key = (os.getpid(), path)
    fd = _WRITER_FILES.get(key)
    if fd is None:
        fd = _WRITER_FILES[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fd


@contextlib.contextmanager
def _one_writer():
    """Around a report write transaction, from its first write to its COMMIT or
    ROLLBACK: on SQLite, one report writer at a time across every process on this
    database. A thread whose connection already writes (it holds SQLite's lock) goes on:
    waiting here could only stall it behind a writer that waits for that very lock.
    The wait has no limit of its own: a holder keeps the lock only while it writes, and
    its own wait for SQLite's lock (a writer that is not a report's) is limited by the
    busy timeout; a process that dies releases it."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite" or connection.connection.dbapi_connection.in_transaction:
        yield
        return
    path = writer_lock_path(connection.engine.url.database)
    with _SQLITE_WRITER:
        if path is None:
            yield
            return
        file = _writer_file(path)
        fcntl.flock(file, fcntl.LOCK_EX)  # releases the GIL while it waits
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def submit_report(data, member=None, filed_by=None):
    """Store one validated report (a ReportSchema load) and commit.

    Returns (outcome, report id (UUID), receipt): CREATED the first time; DUPLICATE when
    a report with this id and the same content is stored (nothing changes); CONFLICT when
    one with this id but other content is (the stored row is unchanged, receipt None).
    Any other failure is raised, with the session rolled back.
    """
    row, receipt = _report_row(data, member, filed_by)
    with _one_writer():
        try:
            _insert(row)
            db.session.commit()
            outcome = CREATED
        except IntegrityError:
            db.session.rollback()
            outcome = None
        except Exception:
            db.session.rollback()
            raise
    if outcome is None:
        outcome, _report = _existing_outcome(row)
    # The id is the one sent (a taken id is the same id): no read back of the new row.
    return outcome, row["id"], receipt if outcome != CONFLICT else None


def _begin_write():
    """Open the write transaction now. On SQLite, Python's driver begins one only before
    an INSERT/UPDATE/DELETE; a SAVEPOINT outside a transaction would become the outer
    transaction, and releasing it would commit (and fsync) each item on its own.
    BEGIN IMMEDIATE also takes the write lock at once, so the batch never has to
    upgrade a read lock midway (which SQLite answers with "database is locked")."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _result(item):
    given_id = item.get("id") if isinstance(item, dict) else None
    return {"id": given_id if isinstance(given_id, str) else None, "errors": {},
            "retryable": False}


def _refused_by_the_data(error):
    """Whether the database (or its driver) refused this item's values themselves: the
    same item would be refused again on every resend, so it is not worth retrying."""
    while error is not None:
        if isinstance(error, DataError | UnicodeError):
            return True
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return False


def _error(result, error):
    # The id and the kind of failure only: a traceback would carry the report's
    # content (SQL parameters) into the log.
    current_app.logger.error("sync: could not store report %s: %s", result["id"],
                             type(error).__name__)
    if _refused_by_the_data(error):
        # The schema refuses what it knows no database takes; anything it missed still
        # parks the report on the phone for the person to fix, instead of a resend loop.
        return {**result, "result": "invalid", "retryable": False,
                "errors": {"_schema": ["This report holds something that cannot be stored."]}}
    return {**result, "result": "error", "retryable": True,
            "errors": {"_schema": ["Could not be stored just now; send it again later."]}}


def _load(item):
    """(result, the validated payload) of one item; the payload is None when the item is
    invalid, and the result then says why."""
    result = _result(item)
    try:
        return result, load_report(item)
    except ValidationError as error:
        messages = error.messages
        return {**result, "result": "invalid", "errors": field_messages(
                    messages if isinstance(messages, dict) else {"_schema": messages})
                }, None


def _prepare(result, data, member, filed_by, receipt=None, digest=None):
    """Everything about one valid item (its _load()) that needs no write: the row, its
    identifiers, its receipt. Returns (result, row, identifiers, receipt); row is None
    when the item failed (result says how)."""
    try:
        row, receipt = _report_row(data, member, filed_by, receipt, digest)
        return result, row, identifier_rows(row["id"], row["offender"]), receipt
    except Exception as error:
        return _error(result, error), None, None, None


def _each(function, values):
    """function(value) for each value; None where it raised (the item's own _prepare
    meets the error again and answers for it alone)."""
    out = []
    for value in values:
        try:
            out.append(function(value))
        except Exception:  # see _prepare
            out.append(None)
    return out


def _prepare_all(items, member, filed_by):
    """_prepare() of every item, done stage by stage over the whole batch (validation,
    phone numbers, receipts, content hashes, then the rows), not item by item: run back to
    back, each stage keeps its code and data in the processor's caches. Interleaved per
    item, the phone library alone took about twice its CPU (4.5-5 against 2.2 ms per
    100 reports); the whole of it 15-20 % more."""
    loaded = [_load(item) for item in items]
    valid = [data for _result, data in loaded if data is not None]
    read_phones([data.get("offender") for data in valid])
    receipts = iter(_each(lambda data: receipt_for(data["id"]), valid))
    digests = iter(_each(content_hash, valid))
    prepared = []
    for result, data in loaded:
        if data is None:  # invalid: answered already
            prepared.append((result, None, None, None))
        else:
            prepared.append(_prepare(result, data, member, filed_by, next(receipts),
                                     next(digests)))
    return prepared


def _store(result, row, identifiers, receipt):
    """One prepared item inside the batch's transaction, in its own SAVEPOINT: a failure
    rolls back this item alone. Returns the result dict."""
    try:
        try:
            with db.session.begin_nested():
                _insert(row, identifiers)
            outcome = CREATED
        except IntegrityError:  # the savepoint is rolled back; the batch goes on
            outcome, _ = _existing_outcome(row)
    except Exception as error:
        return _error(result, error)
    if outcome == CONFLICT:
        return {**result, "result": CONFLICT,
                "errors": {"id": [CONFLICT_MESSAGE]}}
    return {**result, "result": outcome, "receipt": receipt}


# The report columns a new row sets (_report_row's, and the two timestamps whose default
# is made in Python), in the order COPY sends them.
COPIED_REPORT_COLUMNS = (
    "id", "content_hash", "receipt_hash", "status", "occurred_on", "part_of_day", "area_id",
    "incident_types", "description", "offender", "consent_publish", "consent_police",
    "support_requested", "support_come_back", "perpetrator", "targeted_because",
    "contact_encrypted", "member_id", "on_behalf", "staff_id", "received_at", "updated_at")
JSON_COLUMNS = frozenset(c.name for c in Report.__table__.columns if isinstance(c.type, db.JSON))
COPY_REPORTS = f"COPY report ({', '.join(COPIED_REPORT_COLUMNS)}) FROM STDIN"
JSON_POSITIONS = [n for n, c in enumerate(COPIED_REPORT_COLUMNS) if c in JSON_COLUMNS]
COPY_IDENTIFIERS = "COPY identifier (kind, value, report_id) FROM STDIN"
INSERT_REPORTS = (f"INSERT INTO report ({', '.join(COPIED_REPORT_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(COPIED_REPORT_COLUMNS))})")
INSERT_IDENTIFIERS = "INSERT INTO identifier (kind, value, report_id) VALUES (?, ?, ?)"


def _json_text(value):
    # As SQLAlchemy's JSON type writes it (json.dumps with its defaults): the json
    # column keeps the text, and the statistics triggers read it.
    return None if value is None else json.dumps(value)


# The columns a new row leaves to the write itself: the received time (and the same as its
# first update), a microsecond apart in the batch's order, made under the writer's lock.
TIME_POSITIONS = [COPIED_REPORT_COLUMNS.index(c) for c in ("received_at", "updated_at")]


def _driver_values(prepared, pending):
    """{n: (the report's values, [its identifiers' values])} for each pending prepared
    item n, in COPY/INSERT column order, already as the driver takes them (see
    _insert_many), with None for the times; None for an item whose values could not be
    converted (its own SAVEPOINT then meets the error). Made before the writer's lock is
    taken: converting (JSON text, ids, dates) was about a quarter of the time a SQLite
    batch held it."""
    dialect = db.session.get_bind().dialect
    if dialect.name == "postgresql":
        report_processors = [(n, _json_text) for n in JSON_POSITIONS]
        identifier_processors = []
    else:
        report_processors = [(n, processor) for n, processor in _processors(
            dialect, Report.__table__, COPIED_REPORT_COLUMNS) if n not in TIME_POSITIONS]
        identifier_processors = _processors(dialect, Identifier.__table__,
                                            ("kind", "value", "report_id"))

    def convert(n):
        _result, row, identifiers, _receipt = prepared[n]
        values = [row.get(c) for c in COPIED_REPORT_COLUMNS]
        return (_converted(values, report_processors),
                [_converted([i["kind"], i["value"], i["report_id"]], identifier_processors)
                 for i in identifiers])

    return dict(zip(pending, _each(convert, pending), strict=True))


def _converted(values, processors):
    for n, processor in processors:
        values[n] = processor(values[n])
    return values


def _insert_many(reports, identifiers):
    """INSERT new reports and their identifiers (_driver_values' lists), in the caller's
    transaction, straight through the driver: PostgreSQL by COPY, one stream per table
    (executemany has the server plan and run each row on its own, and psycopg adapt each:
    ~0.05 ms of client CPU a report); SQLite by one executemany per table, without
    SQLAlchemy's per-row statement machinery. Sets the received times in `reports` (the
    lists are changed in place). A row the database refuses fails the whole call."""
    connection = db.session.connection()
    # One received time per report, a microsecond apart in the batch's order: the queue
    # lists by received time, and equal times would fall back to the ids' random order
    # (a batch stored item by item, or single POSTs, got distinct times too).
    start = utcnow()
    time = (Report.__table__.c.received_at.type._cached_bind_processor(connection.dialect)
            or (lambda value: value))
    for n, values in enumerate(reports):
        received = time(start + timedelta(microseconds=n))
        for position in TIME_POSITIONS:
            values[position] = received
    if connection.dialect.name == "postgresql":
        with connection.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(COPY_REPORTS) as copy:
                for values in reports:
                    copy.write_row(values)
            if identifiers:
                with cursor.copy(COPY_IDENTIFIERS) as copy:
                    for values in identifiers:
                        copy.write_row(values)
        return
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(INSERT_REPORTS, reports)
        if identifiers:
            cursor.executemany(INSERT_IDENTIFIERS, identifiers)
    finally:
        cursor.close()


def _processors(dialect, table, columns):
    return [(n, processor) for n, processor in enumerate(
        table.c[column].type._cached_bind_processor(dialect) for column in columns)
        if processor is not None]


def _store_all_at_once(prepared, pending, results, converted):
    """The common case first: items whose ids the database does not hold yet, stored by
    one multi-row INSERT per table inside one SAVEPOINT. Ids already stored are answered
    from one SELECT. Returns the items still to store one by one: all of them when an id
    repeats within the batch or the multi-row INSERT fails (a race on an id, or a row the
    database refuses): its SAVEPOINT is rolled back and each item then gets its own."""
    ids = [prepared[n][1]["id"] for n in pending]
    if len(set(ids)) != len(ids):
        return pending
    stored = dict(db.session.execute(
        db.select(Report.id, Report.content_hash).where(Report.id.in_(ids))).all())
    fresh = []
    for n in pending:
        result, row, _identifiers, receipt = prepared[n]
        if row["id"] not in stored:
            fresh.append(n)
        elif same(stored[row["id"]], row["content_hash"]):
            results[n] = {**result, "result": DUPLICATE, "receipt": receipt}
        else:
            results[n] = {**result, "result": CONFLICT, "errors": {"id": [CONFLICT_MESSAGE]}}
    if not fresh:
        return []
    if any(converted[n] is None for n in fresh):
        return fresh
    try:
        with db.session.begin_nested():
            _insert_many([converted[n][0] for n in fresh],
                         [i for n in fresh for i in converted[n][1]])
            open_cases([prepared[n][1] for n in fresh])
    except Exception:  # rolled back to the SAVEPOINT: nothing of the attempt remains
        return fresh
    for n in fresh:
        results[n] = {**prepared[n][0], "result": CREATED, "receipt": prepared[n][3]}
    return []


def sync_reports(items, member=None, filed_by=None):
    """A batch of raw items -> one result dict per item, in order.

    Each item stands alone: the new items are first tried together in one SAVEPOINT,
    and if the database refuses any of them each gets its own SAVEPOINT, so one bad item
    never sinks the others. The batch commits once before the answer, so every item
    answered created or duplicate is durable. If that one commit fails, nothing of the
    batch was stored and every such item is answered "error", retryable.
    Validation, hashing, encryption and normalising happen before the write transaction
    opens: on SQLite the batch holds the database's one write lock, so it holds it only
    for the INSERTs.
    """
    prepared = _prepare_all(items, member, filed_by)
    results = [p[0] for p in prepared]
    pending = [n for n, p in enumerate(prepared) if p[1] is not None]
    if not pending:
        return results
    converted = _driver_values(prepared, pending)
    with _one_writer():
        _write_batch(items, prepared, pending, results, converted)
    return results


def _write_batch(items, prepared, pending, results, converted):
    """The write transaction of sync_reports: fills in `results`; commits or rolls back."""
    try:
        _begin_write()
    except Exception as error:
        db.session.rollback()
        for n in pending:
            results[n] = _error(results[n], error)
        return
    try:
        remaining = _store_all_at_once(prepared, pending, results, converted)
    except Exception:  # e.g. the SELECT failed: start the transaction over, item by item
        db.session.rollback()
        _begin_write()
        remaining = pending
    for n in remaining:
        results[n] = _store(*prepared[n])
    try:
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        for n in pending:
            if results[n]["result"] in (CREATED, DUPLICATE):
                results[n] = _error(_result(items[n]), error)


def get_report(report_id):
    """The report with this id (staff use); NotFound (404) when there is none."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound(code="report_not_found")
    return report


def public_status(report):
    # A later stage may add internal states; the reporter only ever sees these four.
    return report.status if report.status in STATUSES else "in_review"


def report_for_receipt(report_id, receipt):
    """The report if the receipt fits, else None. An unknown id, a malformed id and a
    wrong receipt all give None, after the same comparison work."""
    try:
        parsed = uuid.UUID(str(report_id))
    except ValueError:
        parsed = None
    report = db.session.get(Report, parsed) if parsed is not None else None
    stored = report.receipt_hash if report is not None else "0" * 64
    fits = same(receipt_hash(receipt or ""), stored)
    if report is None or not fits:
        return None
    return report


def report_status(report_id, receipt):
    """{"id", "status", "has_case", "new_messages"} if the receipt fits, else None.
    has_case: the project follows this report up (messages are possible). new_messages: how
    many messages from the project the reporter has not read yet (a count, so the phone
    can say "a message from the project" without holding its content)."""
    report = report_for_receipt(report_id, receipt)
    if report is None:
        return None
    return {"id": report.id, "status": public_status(report), "has_case": has_case(report),
            "new_messages": unread_for_reporter(report)}
