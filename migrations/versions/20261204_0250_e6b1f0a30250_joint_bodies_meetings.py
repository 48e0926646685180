"""joint bodies: members, meetings (agenda, attendance, justerare), meeting decisions; a dispute's deciding bodies

Revision ID: e6b1f0a30250
Revises: e6f1a3b80240
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6b1f0a30250'
down_revision = 'e6f1a3b80240'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('joint_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_joint_bodies')),
    sa.UniqueConstraint('name', name=op.f('uq_joint_bodies_name'))
    )
    op.create_table('joint_body_agreements',
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_joint_body_agreements_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['body_id'], ['joint_bodies.id'], name=op.f('fk_joint_body_agreements_body_id_joint_bodies')),
    sa.PrimaryKeyConstraint('body_id', 'agreement_id', name=op.f('pk_joint_body_agreements'))
    )
    op.create_index(op.f('ix_joint_body_agreements_agreement_id'), 'joint_body_agreements', ['agreement_id'], unique=False)
    op.create_table('body_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mandate', sa.Text(), nullable=False),
    sa.Column('term_from', sa.Date(), nullable=False),
    sa.Column('term_to', sa.Date(), nullable=True),
    sa.Column('is_chair', sa.Boolean(), nullable=False),
    sa.Column('is_secretary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['joint_bodies.id'], name=op.f('fk_body_members_body_id_joint_bodies')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_body_members_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_body_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_members'))
    )
    op.create_index(op.f('ix_body_members_body_id'), 'body_members', ['body_id'], unique=False)
    op.create_index(op.f('ix_body_members_user_id'), 'body_members', ['user_id'], unique=False)
    op.create_table('body_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('justerad_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['body_id'], ['joint_bodies.id'], name=op.f('fk_body_meetings_body_id_joint_bodies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_body_meetings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_meetings'))
    )
    op.create_index(op.f('ix_body_meetings_body_id'), 'body_meetings', ['body_id'], unique=False)
    op.create_table('body_agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('case_type', sa.String(length=30), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['body_meetings.id'], name=op.f('fk_body_agenda_items_meeting_id_body_meetings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_agenda_items'))
    )
    op.create_index(op.f('ix_body_agenda_items_meeting_id'), 'body_agenda_items', ['meeting_id'], unique=False)
    op.create_table('body_attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('is_present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['body_meetings.id'], name=op.f('fk_body_attendances_meeting_id_body_meetings')),
    sa.ForeignKeyConstraint(['member_id'], ['body_members.id'], name=op.f('fk_body_attendances_member_id_body_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_attendances')),
    sa.UniqueConstraint('meeting_id', 'member_id', name=op.f('uq_body_attendances_meeting_id_member_id'))
    )
    op.create_index(op.f('ix_body_attendances_meeting_id'), 'body_attendances', ['meeting_id'], unique=False)
    op.create_table('body_meeting_adjusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('justerat_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['body_meetings.id'], name=op.f('fk_body_meeting_adjusters_meeting_id_body_meetings')),
    sa.ForeignKeyConstraint(['member_id'], ['body_members.id'], name=op.f('fk_body_meeting_adjusters_member_id_body_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_meeting_adjusters')),
    sa.UniqueConstraint('meeting_id', 'member_id', name=op.f('uq_body_meeting_adjusters_meeting_id_member_id'))
    )
    op.create_index(op.f('ix_body_meeting_adjusters_meeting_id'), 'body_meeting_adjusters', ['meeting_id'], unique=False)
    op.create_table('body_meeting_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('paragraph', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('case_type', sa.String(length=30), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['body_meetings.id'], name=op.f('fk_body_meeting_decisions_meeting_id_body_meetings')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_body_meeting_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_body_meeting_decisions')),
    sa.UniqueConstraint('meeting_id', 'paragraph', name=op.f('uq_body_meeting_decisions_meeting_id_paragraph'))
    )
    op.create_index(op.f('ix_body_meeting_decisions_meeting_id'), 'body_meeting_decisions', ['meeting_id'], unique=False)
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steering_body_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('county_body_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_disputes_steering_body_id_joint_bodies'), 'joint_bodies', ['steering_body_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_disputes_county_body_id_joint_bodies'), 'joint_bodies', ['county_body_id'], ['id'])


def downgrade():
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_disputes_county_body_id_joint_bodies'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_disputes_steering_body_id_joint_bodies'), type_='foreignkey')
        batch_op.drop_column('county_body_id')
        batch_op.drop_column('steering_body_id')
    for table in ('body_meeting_decisions', 'body_meeting_adjusters', 'body_attendances', 'body_agenda_items'):
        op.drop_index(op.f(f'ix_{table}_meeting_id'), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f('ix_body_meetings_body_id'), table_name='body_meetings')
    op.drop_table('body_meetings')
    op.drop_index(op.f('ix_body_members_user_id'), table_name='body_members')
    op.drop_index(op.f('ix_body_members_body_id'), table_name='body_members')
    op.drop_table('body_members')
    op.drop_index(op.f('ix_joint_body_agreements_agreement_id'), table_name='joint_body_agreements')
    op.drop_table('joint_body_agreements')
    op.drop_table('joint_bodies')
