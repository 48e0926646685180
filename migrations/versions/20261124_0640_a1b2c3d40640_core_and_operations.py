"""core and operations

Revision ID: a1b2c3d40640
Revises: a1b2c3d40630
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40640'
down_revision = 'a1b2c3d40630'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('process_incidents', schema=None) as batch_op:
        batch_op.create_index('ix_process_incidents_status', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_incidents_instance_id'), ['instance_id'], unique=False)

    op.create_table('agreement_drafters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agreement_id', 'user_id')
    )
    with op.batch_alter_table('agreement_drafters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_drafters_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_drafters_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('agreement_drafters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_drafters_user_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_drafters_agreement_id'))
    op.drop_table('agreement_drafters')
    with op.batch_alter_table('process_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_incidents_instance_id'))
        batch_op.drop_index('ix_process_incidents_status')
    op.drop_table('process_incidents')
