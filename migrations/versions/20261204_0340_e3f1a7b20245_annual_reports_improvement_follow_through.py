"""annual reports, improvement actions followed to done, the analysis group's reminder and escalation, routine notices

Revision ID: e3f1a7b20245
Revises: e6b1f0a30250
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e3f1a7b20245'
down_revision = 'e6b1f0a30250'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'annual_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('activities', sa.Text(), nullable=False),
        sa.Column('plans', sa.Text(), nullable=False),
        sa.Column('economy', sa.JSON(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('adopted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('adopted_by_id', sa.Integer(), nullable=True),
        sa.Column('adoption_reference', sa.String(length=300), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['adopted_by_id'], ['users.id'], name=op.f('fk_annual_reports_adopted_by_id_users')),
        sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_annual_reports_agreement_id_agreements')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_annual_reports_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_reports')),
        sa.UniqueConstraint('agreement_id', 'year', name=op.f('uq_annual_reports_agreement_id_year')),
    )
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_reports_agreement_id'), ['agreement_id'], unique=False)
    op.create_table(
        'routine_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routine_notices')),
        sa.UniqueConstraint('kind', 'subject', name=op.f('uq_routine_notices_kind_subject')),
    )
    with op.batch_alter_table('deviation_improvement_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='planned'))
        batch_op.add_column(sa.Column('completed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('result', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(op.f('fk_deviation_improvement_actions_owner_id_users'), 'users', ['owner_id'], ['id'])
        batch_op.create_foreign_key(op.f('fk_deviation_improvement_actions_completed_by_id_users'), 'users', ['completed_by_id'], ['id'])
    with op.batch_alter_table('deviation_improvement_actions', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.alter_column('result', server_default=None)
    with op.batch_alter_table('deviations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('analysis_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('analysis_reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('analysis_escalated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('deviations', schema=None) as batch_op:
        batch_op.drop_column('analysis_escalated_at')
        batch_op.drop_column('analysis_reminded_at')
        batch_op.drop_column('analysis_started_at')
    with op.batch_alter_table('deviation_improvement_actions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_deviation_improvement_actions_completed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_deviation_improvement_actions_owner_id_users'), type_='foreignkey')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('result')
        batch_op.drop_column('completed_by_id')
        batch_op.drop_column('status')
        batch_op.drop_column('owner_id')
    op.drop_table('routine_notices')
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_reports_agreement_id'))
    op.drop_table('annual_reports')
