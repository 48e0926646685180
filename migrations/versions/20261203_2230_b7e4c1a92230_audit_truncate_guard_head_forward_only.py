"""audit: TRUNCATE refused on audit_events, the chain head only moves forward

Revision ID: b7e4c1a92230
Revises: a1b2c3d40650
Create Date: 2026-12-03

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4c1a92230'
down_revision = 'a1b2c3d40650'
branch_labels = None
depends_on = None

# As service/audit/models.py attaches them to tables made with create_all (copied: migrations are frozen).
# TRUNCATE fires no row trigger: a statement trigger refuses it (audit_events_append_only() raises for any TG_OP).
NO_TRUNCATE_TRIGGER = ("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                       "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
HEAD_FORWARD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_head_forward_only() RETURNS trigger AS $body$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id
       AND (NEW.seq > OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit_chain_head only moves forward: ' || TG_OP || ' refused';
END;
$body$ LANGUAGE plpgsql
"""
HEAD_FORWARD_TRIGGER = ("CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE ON audit_chain_head "
                        "FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only()")
HEAD_NO_TRUNCATE_TRIGGER = ("CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
                            "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward_only()")


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(NO_TRUNCATE_TRIGGER)
    op.execute(HEAD_FORWARD_FUNCTION)
    op.execute(HEAD_FORWARD_TRIGGER)
    op.execute(HEAD_NO_TRUNCATE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head')
    op.execute('DROP TRIGGER IF EXISTS audit_chain_head_forward_only ON audit_chain_head')
    op.execute('DROP FUNCTION IF EXISTS audit_chain_head_forward_only()')
    op.execute('DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events')
