"""agreements: a party's leaving (uppsägning) with the notice period the agreement states, and the agreement's own
follow-up terms (how often, by whom, revised at the latest) (issue #19 items 7, 8)

Revision ID: c8d4f2a10335
Revises: f19a6c0e0300
Create Date: 2026-12-04

Agreements already adopted keep their status here; ``samverkan agreements restart-lifecycles`` moves one whose start
date lies ahead back to "adopted" and gives every running lifecycle the new diagram (service/agreements/commands.py).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c8d4f2a10335'
down_revision = 'f19a6c0e0300'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_interval', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('follow_up_organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_by', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agreement_versions_follow_up_organisation_id_organisations'),
                                    'organisations', ['follow_up_organisation_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_agreement_versions_follow_up_user_id_users'),
                                    'users', ['follow_up_user_id'], ['id'])
    op.create_table('agreement_party_leavings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('paragraph', sa.String(length=20), nullable=False),
    sa.Column('diarienummer', sa.String(length=50), nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=False),
    sa.Column('notice_months', sa.Integer(), nullable=False),
    sa.Column('bound_until', sa.Date(), nullable=False),
    sa.Column('is_joint', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['authorised_bodies.id'],
                            name=op.f('fk_agreement_party_leavings_body_id_authorised_bodies')),
    sa.ForeignKeyConstraint(['party_id'], ['agreement_parties.id'],
                            name=op.f('fk_agreement_party_leavings_party_id_agreement_parties')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_agreement_party_leavings_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_party_leavings')),
    sa.UniqueConstraint('party_id', name=op.f('uq_agreement_party_leavings_party_id'))
    )


def downgrade():
    op.drop_table('agreement_party_leavings')
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agreement_versions_follow_up_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agreement_versions_follow_up_organisation_id_organisations'),
                                 type_='foreignkey')
        batch_op.drop_column('review_by')
        batch_op.drop_column('follow_up_user_id')
        batch_op.drop_column('follow_up_organisation_id')
        batch_op.drop_column('follow_up_interval')
        batch_op.drop_column('notice_months')
