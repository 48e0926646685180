"""organisation memberships: a kommun is a member of its kommunalförbund and of VästKom (issue #19 item 6)

A recommendation goes from the recommending association to its members; parties that are members of none are
never held by it.

Revision ID: f19a6c0e0300
Revises: e3f1a7b20245
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f19a6c0e0300'
down_revision = 'e3f1a7b20245'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['organisations.id'], name=op.f('fk_organisation_memberships_association_id_organisations')),
    sa.ForeignKeyConstraint(['member_id'], ['organisations.id'], name=op.f('fk_organisation_memberships_member_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_memberships')),
    sa.UniqueConstraint('member_id', 'association_id', name=op.f('uq_organisation_memberships_member_id_association_id'))
    )
    op.create_index(op.f('ix_organisation_memberships_association_id'), 'organisation_memberships', ['association_id'], unique=False)
    op.create_index(op.f('ix_organisation_memberships_member_id'), 'organisation_memberships', ['member_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_organisation_memberships_member_id'), table_name='organisation_memberships')
    op.drop_index(op.f('ix_organisation_memberships_association_id'), table_name='organisation_memberships')
    op.drop_table('organisation_memberships')
