"""modeller drafts incidents

Revision ID: a1b2c3d40610
Revises: a1b2c3d40605
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40610'
down_revision = 'a1b2c3d40605'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('modeller_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_modeller_drafts_saved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modeller_drafts'))
    )
    with op.batch_alter_table('modeller_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_modeller_drafts_process_id'), ['process_id'], unique=False)

    op.create_table('modeller_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('schema', sa.JSON(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_modeller_forms_saved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modeller_forms')),
    sa.UniqueConstraint('name', name=op.f('uq_modeller_forms_name'))
    )


def downgrade():
    op.drop_table('modeller_forms')
    with op.batch_alter_table('modeller_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modeller_drafts_process_id'))
    op.drop_table('modeller_drafts')
