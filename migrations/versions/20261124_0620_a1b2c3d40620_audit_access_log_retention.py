"""audit access log retention

Revision ID: a1b2c3d40620
Revises: a1b2c3d40610
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'a1b2c3d40620'
down_revision = 'a1b2c3d40610'
branch_labels = None
depends_on = None

# As service/audit/models.py attaches them to tables made with create_all (copied: migrations are frozen).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $body$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused';
END;
$body$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = ("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                       "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")


def upgrade():
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('accessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('case_type', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_accessed_at'), ['accessed_at'], unique=False)
        batch_op.create_index('ix_access_log_case', ['case_type', 'case_id', 'accessed_at'], unique=False)

    op.create_table('disposal_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.String(length=32), nullable=False),
    sa.Column('after_years', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_decisions')),
    sa.UniqueConstraint('case_type', name=op.f('uq_disposal_decisions_case_type'))
    )
    # Audit rows are append-only: the database refuses UPDATE and DELETE (PostgreSQL).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION IF EXISTS audit_events_append_only()')
    op.drop_table('disposal_decisions')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_case')
        batch_op.drop_index(batch_op.f('ix_access_log_accessed_at'))
    op.drop_table('access_log')
