"""decision tables: the DMN files a version's business-rule tasks call, and tables edited in the modeller (issue #22 item 3)

Revision ID: d5f1b2c81730
Revises: c2e8a4f10530
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd5f1b2c81730'
down_revision = 'c2e8a4f10530'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decisions', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('modeller_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('dmn_xml', sa.Text(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_modeller_decisions_saved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modeller_decisions')),
    sa.UniqueConstraint('name', name=op.f('uq_modeller_decisions_name'))
    )


def downgrade():
    op.drop_table('modeller_decisions')
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('decisions')
