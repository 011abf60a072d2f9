from ..extensions import db
from ..reports.models import INCIDENT_TYPES, TARGETED_BECAUSE


class ReportTally(db.Model):
    """What is left of a raw report after its retention period: anonymous statistics
    only. One row per incident (a group of linked reports counts once), by month: no
    text, no identifiers, no day, nothing of the reporter."""
    __tablename__ = "report_tally"
    id = db.Column(db.Integer, primary_key=True)
    # The first day of the incident's month.
    month = db.Column(db.Date, nullable=False, index=True)
    area_id = db.Column(db.Integer, db.ForeignKey("area.id", ondelete="CASCADE"), nullable=False)
    incident_types = db.Column(db.JSON, nullable=False)
    perpetrator = db.Column(db.String(30))
    targeted_because = db.Column(db.JSON)


# --- The maintained summary ---------------------------------------------------------------
# What statistics count, kept up to date by the database itself: triggers on report and
# report_tally append each change to report_count_change (+1 for a report now counted,
# -1 for one no longer counted: deleted, linked to another, or changed), in the writer's
# own transaction, whoever the writer is (the ORM, a Core bulk statement, a foreign key's
# ON DELETE SET NULL). Appending never updates a shared row, so concurrent writers never
# wait on each other or deadlock. stats.service.compact() folds the changes into
# report_count; statistics are read from there.
#
# A counted report (one that links to no other) is described exactly as the grouped
# recount (stats.service.recount) describes it: a LIKE on the text of its JSON lists.

# report_count.grain: "d" reports by day (occurred_on), "m" reports by month (the first
# day), "t" tallies of purged reports by month. report_count_change.grain: "r" a report
# (by day), "t" a tally (by month).
GRAINS = ("d", "m", "t")


def count_columns(incident_types, reasons):
    """The count columns of report_count and report_count_change, in order."""
    return (("total", "reason_not_said", "online_harm")
            + tuple(f"type_{kind}" for kind in incident_types)
            + tuple(f"reason_{kind}" for kind in reasons))


def _names_sql(row, column, value):
    return f"""(CASE WHEN CAST({row}.{column} AS TEXT) LIKE '%"{value}"%' THEN 1 ELSE 0 END)"""


def count_values_sql(row, incident_types, reasons, online_harm):
    """SQL expressions, one per count_columns(), of one report or tally row (`row` is
    NEW, OLD or a table name): 1 or 0 each."""
    any_reason = " + ".join(_names_sql(row, "targeted_because", kind) for kind in reasons)
    any_online = " + ".join(_names_sql(row, "incident_types", kind) for kind in online_harm)
    return (["1", f"(CASE WHEN {any_reason} = 0 THEN 1 ELSE 0 END)",
             f"(CASE WHEN {any_online} > 0 THEN 1 ELSE 0 END)"]
            + [_names_sql(row, "incident_types", kind) for kind in incident_types]
            + [_names_sql(row, "targeted_because", kind) for kind in reasons])


# What a report's counts depend on: an UPDATE of anything else changes no count.
COUNTED_REPORT_COLUMNS = ("occurred_on", "area_id", "perpetrator", "incident_types",
                          "targeted_because", "linked_to_id")
COUNTED_TALLY_COLUMNS = ("month", "area_id", "perpetrator", "incident_types",
                         "targeted_because")


def _change_sql(dialect, grain, row, sign, columns, values):
    period = f"{row}.occurred_on" if grain == "r" else f"{row}.month"
    signed = values if sign > 0 else [f"-{value}" for value in values]
    return (f"INSERT INTO report_count_change (grain, period, area_id, perpetrator, "
            f"{', '.join(columns)}) VALUES ('{grain}', {period}, {row}.area_id, "
            f"COALESCE({row}.perpetrator, ''), {', '.join(signed)})")


def _inserted_changes_sql(table, grain, columns, values):
    # One statement's new rows (the transition table new_rows) as change rows, summed by
    # the summary's key: a 100-report COPY appends a handful of rows, not 100.
    period = "occurred_on" if grain == "r" else "month"
    counted = "n.linked_to_id IS NULL" if grain == "r" else "TRUE"
    return (f"INSERT INTO report_count_change (grain, period, area_id, perpetrator, "
            f"{', '.join(columns)}) SELECT '{grain}', n.{period}, n.area_id, "
            f"COALESCE(n.perpetrator, ''), {', '.join(f'SUM({v})' for v in values)} "
            f"FROM new_rows AS n WHERE {counted} "
            f"GROUP BY n.{period}, n.area_id, COALESCE(n.perpetrator, '')")


def trigger_ddl(dialect, incident_types, reasons, online_harm):
    """The statements that create the triggers (CREATE FUNCTION/TRIGGER).

    On PostgreSQL an INSERT is counted once per statement, from its transition table
    (REFERENCING NEW TABLE; PostgreSQL 10+, and COPY fires it too): per row, PL/pgSQL
    evaluating the counts and running its own INSERT cost the database more than storing
    the report (0.06-0.19 ms a report in EXPLAIN ANALYZE against ~0.02 ms for the row).
    PostgreSQL allows a transition table only on a trigger for one event and with no
    column list, so UPDATE and DELETE keep their row trigger. SQLite has only row
    triggers."""
    columns = count_columns(incident_types, reasons)
    statements = []
    for table, grain, watched in (("report", "r", COUNTED_REPORT_COLUMNS),
                                  ("report_tally", "t", COUNTED_TALLY_COLUMNS)):
        counted = {"r": "{row}.linked_to_id IS NULL", "t": "TRUE"}[grain]

        def change(row, sign, grain=grain):
            return _change_sql(dialect, grain, row, sign, columns,
                               count_values_sql(row, incident_types, reasons, online_harm))
        if dialect == "postgresql":
            same = " AND ".join(
                f"OLD.{c}::text IS NOT DISTINCT FROM NEW.{c}::text" for c in watched
                if c != "linked_to_id")
            if grain == "r":
                same += " AND (OLD.linked_to_id IS NULL) = (NEW.linked_to_id IS NULL)"
            statements.append(f"""
CREATE FUNCTION {table}_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {same} THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF {counted.format(row="OLD")} THEN
            {change("OLD", -1)};
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF {counted.format(row="NEW")} THEN
            {change("NEW", 1)};
        END IF;
    END IF;
    RETURN NULL;
END
$$""")
            statements.append(
                f"CREATE TRIGGER {table}_count_change AFTER DELETE OR UPDATE OF "
                f"{', '.join(watched)} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION {table}_count_change()")
            inserted = _inserted_changes_sql(
                table, grain, columns, count_values_sql("n", incident_types, reasons, online_harm))
            statements += [
                f"CREATE FUNCTION {table}_count_insert() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {inserted}; RETURN NULL; END $$",
                f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
                f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {table}_count_insert()"]
        else:
            same = " AND ".join(f"OLD.{c} IS NEW.{c}" for c in watched if c != "linked_to_id")
            if grain == "r":
                same += " AND (OLD.linked_to_id IS NULL) = (NEW.linked_to_id IS NULL)"
            counted_old, counted_new = (counted.format(row=r).replace("TRUE", "1")
                                        for r in ("OLD", "NEW"))
            statements += [
                f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
                f"WHEN {counted_new} BEGIN {change('NEW', 1)}; END",
                f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
                f"WHEN {counted_old} BEGIN {change('OLD', -1)}; END",
                f"CREATE TRIGGER {table}_count_update_old AFTER UPDATE OF {', '.join(watched)} "
                f"ON {table} WHEN {counted_old} AND NOT ({same}) "
                f"BEGIN {change('OLD', -1)}; END",
                f"CREATE TRIGGER {table}_count_update_new AFTER UPDATE OF {', '.join(watched)} "
                f"ON {table} WHEN {counted_new} AND NOT ({same}) "
                f"BEGIN {change('NEW', 1)}; END",
            ]
    return statements


def drop_trigger_ddl(dialect):
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {table}_count_{kind}() CASCADE"
                for table in ("report", "report_tally") for kind in ("change", "insert")]
    return [f"DROP TRIGGER IF EXISTS {table}_count_{when}"
            for table in ("report", "report_tally")
            for when in ("insert", "delete", "update_old", "update_new")]


def _count_table(name, key, incident_types, reasons):
    return db.Table(
        name, db.metadata, *key,
        db.Column("area_id", db.Integer, nullable=False, primary_key=name == "report_count"),
        # "" when the reporter did not say (a key column cannot be NULL).
        db.Column("perpetrator", db.String(30), nullable=False,
                  primary_key=name == "report_count"),
        *(db.Column(column, db.Integer, nullable=False, default=0)
          for column in count_columns(incident_types, reasons)))


def _tables():
    summary = _count_table("report_count", (
        db.Column("grain", db.String(1), primary_key=True),
        db.Column("period", db.Date, primary_key=True)), INCIDENT_TYPES, TARGETED_BECAUSE)
    changes = _count_table("report_count_change", (
        db.Column("id", db.BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True),
        db.Column("grain", db.String(1), nullable=False),
        db.Column("period", db.Date, nullable=False)), INCIDENT_TYPES, TARGETED_BECAUSE)
    return summary, changes


report_count, report_count_change = _tables()
