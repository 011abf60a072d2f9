"""report.receipt_hash loses its unique constraint (and so its index). No query looks a
report up by it: a receipt is checked by reading the report by its primary key and
comparing hashes, and a receipt is derived from the report's id, so the id's primary key
already makes it one per report. Its 64-character random keys made that index the
costliest of the table's to insert into (100 inserts: 3.8 ms with it, 2.2 ms without, on
SQLite at 20k rows). Exactly-once is unchanged: it rests on the primary key (report.id).

PostgreSQL drops the constraint. SQLite drops a table constraint only by rebuilding the
table, done here by SQLite's own procedure (https://www.sqlite.org/lang_altertable.html,
"making other kinds of table schema changes"), with foreign keys off (env.py turns them
off for every SQLite migration and checks them before the commit), so that dropping the
old table cannot cascade into its children (identifiers, cases, alert links: ON DELETE
CASCADE; other reports' links: ON DELETE SET NULL). In one transaction: the new table from
the stored CREATE TABLE without the constraint, every row copied, the old one dropped, the
new one renamed, and its indexes and triggers recreated from their stored SQL (Alembic's
batch mode would lose the statistics summary's triggers). test_migrations checks that
children, links and the summary survive both ways.

Revision ID: 0014
Revises: 0013
"""
import re

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

NAME = 'uq_report_receipt_hash'
# Never the first item of the table's definition; its place among the constraints differs
# between databases (earlier batch rebuilds wrote them in no fixed order).
CONSTRAINT = re.compile(r',\s*CONSTRAINT uq_report_receipt_hash UNIQUE \(receipt_hash\)')
PRIMARY_KEY = re.compile(r'(CONSTRAINT pk_report PRIMARY KEY \(id\))')


def _rebuild_sqlite(change):
    """Rebuild `report` from its stored CREATE TABLE passed through `change`."""
    connection = op.get_bind()
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping the old table would delete or orphan every child row.
        raise RuntimeError("report can only be rebuilt with foreign keys off (env.py)")
    if not connection.connection.dbapi_connection.in_transaction:
        # Python's driver begins a transaction only before DML, and the CREATE TABLE
        # comes first: begin now, so the rebuild is one transaction (Alembic commits it
        # with the new revision).
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    (create,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'report'").scalars()
    others = list(connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'report' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL").scalars())
    new, replaced = re.subn(r'^CREATE TABLE "?report"? \(', 'CREATE TABLE _report_new (',
                            change(create))
    if replaced != 1:
        raise RuntimeError("report's CREATE TABLE is not as expected")
    connection.exec_driver_sql(new)
    connection.exec_driver_sql("INSERT INTO _report_new SELECT * FROM report")
    connection.exec_driver_sql("DROP TABLE report")
    connection.exec_driver_sql("ALTER TABLE _report_new RENAME TO report")
    for statement in others:
        connection.exec_driver_sql(statement)


def _without(create):
    new, removed = CONSTRAINT.subn('', create)
    if removed != 1:
        raise RuntimeError("report has no uq_report_receipt_hash to drop")
    return new


def _with(create):
    new, added = PRIMARY_KEY.subn(r'\1, \n\tCONSTRAINT uq_report_receipt_hash UNIQUE (receipt_hash)',
                                  create)
    if added != 1:
        raise RuntimeError("report's CREATE TABLE is not as expected")
    return new


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(NAME, 'report', type_='unique')
    else:
        _rebuild_sqlite(_without)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.create_unique_constraint(NAME, 'report', ['receipt_hash'])
    else:
        _rebuild_sqlite(_with)
