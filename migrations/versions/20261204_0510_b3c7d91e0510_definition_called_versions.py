"""process_definitions: the version of each separately deployed process a call activity runs, bound at deploy
(issue #22 item 6)

Revision ID: b3c7d91e0510
Revises: d7e2b94c0441
Create Date: 2026-12-04

Existing versions call nothing outside their own file.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3c7d91e0510'
down_revision = 'd7e2b94c0441'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('called_versions', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('called_versions')
