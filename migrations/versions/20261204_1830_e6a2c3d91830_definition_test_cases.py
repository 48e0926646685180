"""process tests stored with the version: the test cases a version passed when it was deployed (issue #22 item 5)

Revision ID: e6a2c3d91830
Revises: d5f1b2c81730
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6a2c3d91830'
down_revision = 'd5f1b2c81730'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test_cases', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('test_cases')
