import uuid

from ..clock import utcnow
from ..extensions import db

INCIDENT_TYPES = (
    "physical_assault", "sexual_assault", "rape", "robbery", "theft", "refused_to_pay",
    "condom_removal", "threats", "harassment_or_stalking", "drugging", "posing_as_police",
    "outing_or_blackmail", "other",
    # Online harm: a large share of what people who work online report.
    "outing", "blackmail", "image_based_abuse", "doxxing",
)
# Still accepted (an outbox filled before an upgrade must never be refused) and still
# counted, but no longer offered: "outing" and "blackmail" replace it.
RETIRED_INCIDENT_TYPES = ("outing_or_blackmail",)
OFFERED_INCIDENT_TYPES = tuple(k for k in INCIDENT_TYPES if k not in RETIRED_INCIDENT_TYPES)
ONLINE_HARM = ("outing", "blackmail", "image_based_abuse", "doxxing", "outing_or_blackmail")
PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
# Police consent as the UK scheme practises it, narrowest first:
# none: nothing goes to the police;
# anonymous_intelligence: offender and incident, nothing of the reporter;
# contact_via_project: the same, and the police may ask the project to contact the reporter;
# full_report: the full report with the reporter's contact details.
POLICE_CONSENT = ("none", "anonymous_intelligence", "contact_via_project", "full_report")
# The levels of earlier versions, still accepted from devices that queued a report before
# an upgrade, stored as the nearest level that widens nothing (the 0002 migration does
# the same to stored reports).
LEGACY_POLICE_CONSENT = {"offender_only": "anonymous_intelligence", "with_contact": "full_report"}
# Who the reporter says did it.
PERPETRATOR_KINDS = ("client", "police_officer", "manager_or_venue_staff", "landlord", "other")
# Hate crime, on the reporter's perception (as UK recording is): what they feel they were
# targeted for. Recorded as given, never questioned.
TARGETED_BECAUSE = ("sex_work", "race_or_ethnicity", "religion", "sexual_orientation",
                    "gender_identity", "disability", "other")
# The handling note a moderator chooses for a report in a police pack.
POLICE_HANDLING = ("intelligence_only", "ask_project_before_action", "may_act_on")
CONTACT_METHODS = ("street", "online_ad", "phone", "venue", "app", "other")
# received -> in_review -> published | not_published
STATUSES = ("received", "in_review", "published", "not_published")


class Report(db.Model):
    """A raw, private report. Its id is made on the device, so a resend is recognised."""
    __tablename__ = "report"
    __table_args__ = (
        # The staff queue's order (newest first, id breaks ties), whole and behind each
        # indexed filter: a page is one range read of one index, however deep (0012).
        db.Index("ix_report_queue_order", "received_at", "id"),
        db.Index("ix_report_queue_status", "status", "received_at", "id"),
        db.Index("ix_report_queue_area", "area_id", "received_at", "id"),
        # The police pack's order with its shareable filter (0016): a window of incident
        # days is one range, read in order; its audit reads the index alone.
        db.Index("ix_report_pack_order", "occurred_on", "received_at", "id", "consent_police"),
        db.Index("ix_report_linked_to_id", "linked_to_id",
                 sqlite_where=db.text("linked_to_id IS NOT NULL"),
                 postgresql_where=db.text("linked_to_id IS NOT NULL")),
    )
    id = db.Column(db.Uuid, primary_key=True, default=uuid.uuid4)
    # SHA-256 of the canonical submitted content: a resend with other content is a conflict.
    content_hash = db.Column(db.String(64), nullable=False)
    # SHA-256 of the reporter's receipt; the receipt itself is never stored.
    # Not unique (0014): a receipt is derived from the id, and checked by the id's row.
    receipt_hash = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(20), nullable=False, default="received")
    received_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    occurred_on = db.Column(db.Date, nullable=False)
    part_of_day = db.Column(db.String(16))
    area_id = db.Column(db.Integer, db.ForeignKey("area.id"), nullable=False)
    incident_types = db.Column(db.JSON, nullable=False)
    description = db.Column(db.Text, nullable=False)
    # The offender description as the reporter gave it (see reports.schemas.OffenderSchema).
    offender = db.Column(db.JSON, nullable=False, default=dict)

    consent_publish = db.Column(db.Boolean, nullable=False, default=True)
    consent_police = db.Column(db.String(30), nullable=False, default="none")
    support_requested = db.Column(db.Boolean, nullable=False, default=False)
    # Drop-in mode: no contact details; the person will come back for follow-up.
    support_come_back = db.Column(db.Boolean, nullable=False, default=False,
                                  server_default=db.false())
    # One of PERPETRATOR_KINDS, or None when the reporter did not say.
    perpetrator = db.Column(db.String(30))
    # TARGETED_BECAUSE items the reporter chose (hate-crime perception); None: not said.
    targeted_because = db.Column(db.JSON)
    # POLICE_HANDLING, chosen by a moderator; None reads as "intelligence_only".
    police_handling = db.Column(db.String(30))
    # Reporter contact details, encrypted at rest (Fernet); None when none were given.
    contact_encrypted = db.Column(db.LargeBinary)

    member_id = db.Column(db.Integer, db.ForeignKey("member.id", ondelete="SET NULL"), index=True)
    # Filed by an outreach worker on the reporter's behalf (drop-in mode).
    on_behalf = db.Column(db.Boolean, nullable=False, default=False)
    staff_id = db.Column(db.Integer, db.ForeignKey("staff.id", ondelete="SET NULL"))

    reject_reason = db.Column(db.Text)
    # Same incident as another report (linked by a moderator).
    # Indexed only where set (migration 0009): nearly all reports link to nothing.
    linked_to_id = db.Column(db.Uuid, db.ForeignKey("report.id", ondelete="SET NULL"))

    area = db.relationship("Area")


# The queue's filter by incident type (0015): one row per (type, report), in the queue's
# order behind each type, so a page of a type few reports have is one range read of the
# primary key on both engines (SQLite has no index on JSON list items: it read the whole
# queue for a type no report has). Kept exact by triggers on report, in the writer's own
# transaction, whoever the writer is (the ORM, Core bulk statements, COPY, retention's
# deletions): it cannot drift from report.incident_types.
# Keyed in that order alone (0018; SQLite: WITHOUT ROWID, the rows are the key's B-tree), so
# a new report's rows append at the end of each type's range. Keyed by (report id, type)
# before, every insert also landed at a random place of a second tree: a page written to
# the WAL per report once the table outgrew a batch. A trigger finds a report's rows from
# the report's own values (its types, received_at and id), without an index on report_id.
report_incident_type = db.Table(
    "report_incident_type", db.metadata,
    db.Column("incident_type", db.String(30), primary_key=True),
    db.Column("received_at", db.DateTime(timezone=True), primary_key=True),
    db.Column("report_id", db.Uuid, primary_key=True),
    sqlite_with_rowid=False,
)


def _incident_types_sql(row):
    """PostgreSQL: a FROM item of the distinct-to-be text items of `row`'s incident_types,
    as `kind` (none when the value is not a list)."""
    return (f"json_array_elements_text("
            f"CASE WHEN json_typeof({row}.incident_types) = 'array' THEN {row}.incident_types "
            f"ELSE '[]'::json END) AS kind")


def _incident_type_rows_sql(row, tables=""):
    """PostgreSQL: SELECT of the report_incident_type rows of `row` (NEW, or the alias of
    a transition table that `tables` names)."""
    return f"SELECT DISTINCT kind, {row}.received_at, {row}.id FROM {tables}{_incident_types_sql(row)}"


def incident_type_trigger_ddl(dialect):
    """The statements that create the triggers keeping report_incident_type exact: a
    report's rows are (each distinct text item of its incident_types list, its
    received_at, its id), replaced when either changes, gone with the report. On
    PostgreSQL an INSERT's rows are added once per statement from its transition table,
    as the statistics' are (server/stats/models.py trigger_ddl says why)."""
    if dialect == "postgresql":
        rows = _incident_type_rows_sql("NEW")
        old_types = f"SELECT kind FROM {_incident_types_sql('OLD')}"
        inserted = ("INSERT INTO report_incident_type (incident_type, received_at, report_id) "
                    + _incident_type_rows_sql("n", "new_rows AS n, "))
        return [f"""
CREATE FUNCTION report_incident_type_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.id = NEW.id AND OLD.received_at = NEW.received_at
                AND OLD.incident_types::text = NEW.incident_types::text THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM report_incident_type WHERE received_at = OLD.received_at
            AND report_id = OLD.id AND incident_type IN ({old_types});
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO report_incident_type (incident_type, received_at, report_id) {rows};
    END IF;
    RETURN NULL;
END
$$""", "CREATE TRIGGER report_incident_type_sync AFTER DELETE OR UPDATE OF "
               "id, received_at, incident_types ON report FOR EACH ROW "
               "EXECUTE FUNCTION report_incident_type_sync()",
                "CREATE FUNCTION report_incident_type_insert() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {inserted}; RETURN NULL; END $$",
                "CREATE TRIGGER report_incident_type_insert AFTER INSERT ON report "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION report_incident_type_insert()"]
    insert = ("INSERT INTO report_incident_type (incident_type, received_at, report_id) "
              "SELECT DISTINCT value, NEW.received_at, NEW.id "
              "FROM json_each(NEW.incident_types) WHERE type = 'text'")
    delete = ("DELETE FROM report_incident_type WHERE received_at = OLD.received_at "
              "AND report_id = OLD.id AND incident_type IN "
              "(SELECT value FROM json_each(OLD.incident_types) WHERE type = 'text')")
    changed = ("NOT (OLD.id IS NEW.id AND OLD.received_at IS NEW.received_at "
               "AND OLD.incident_types IS NEW.incident_types)")
    return [
        f"CREATE TRIGGER report_incident_type_insert AFTER INSERT ON report "
        f"BEGIN {insert}; END",
        f"CREATE TRIGGER report_incident_type_delete AFTER DELETE ON report "
        f"BEGIN {delete}; END",
        f"CREATE TRIGGER report_incident_type_update AFTER UPDATE OF id, received_at, "
        f"incident_types ON report WHEN {changed} BEGIN {delete}; {insert}; END",
    ]


def drop_incident_type_trigger_ddl(dialect):
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS report_incident_type_{kind}() CASCADE"
                for kind in ("sync", "insert")]
    return [f"DROP TRIGGER IF EXISTS report_incident_type_{when}"
            for when in ("insert", "delete", "update")]
