"""agreements: appeals of a party's decision till förvaltningsrätten (court, målnummer, day lodged) and the
court's outcome, registered at any time after the decision, also after laga kraft (issue #19, item 2)

Revision ID: a9c3e5d70315
Revises: c8d4f2a10335
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a9c3e5d70315'
down_revision = 'c8d4f2a10335'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreement_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('court', sa.String(length=120), nullable=False),
    sa.Column('case_number', sa.String(length=50), nullable=False),
    sa.Column('lodged_on', sa.Date(), nullable=False),
    sa.Column('was_final', sa.Boolean(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('judgment', sa.String(length=16), nullable=True),
    sa.Column('judgment_final_on', sa.Date(), nullable=True),
    sa.Column('judgment_note', sa.Text(), nullable=False),
    sa.Column('judgment_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('judgment_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['agreement_decisions.id'],
                            name=op.f('fk_agreement_appeals_decision_id_agreement_decisions')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                            name=op.f('fk_agreement_appeals_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_agreement_appeals_registered_by_id_users')),
    sa.ForeignKeyConstraint(['judgment_recorded_by_id'], ['users.id'],
                            name=op.f('fk_agreement_appeals_judgment_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_appeals')),
    sa.UniqueConstraint('decision_id', 'court', 'case_number',
                        name=op.f('uq_agreement_appeals_decision_id_court_case_number')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_agreement_appeals_instance_id')),
    )
    with op.batch_alter_table('agreement_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_appeals_decision_id'), ['decision_id'], unique=False)


def downgrade():
    with op.batch_alter_table('agreement_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_appeals_decision_id'))
    op.drop_table('agreement_appeals')
