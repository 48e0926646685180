"""process test cases: a process owner's cases, run against every new version at deploy (issue #22 item 5)

Revision ID: c2e8a4f10530
Revises: b4c7d91e0520
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c2e8a4f10530'
down_revision = 'b4c7d91e0520'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_test_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('case', sa.JSON(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_process_test_cases_saved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_test_cases')),
    sa.UniqueConstraint('process_id', 'name', name=op.f('uq_process_test_cases_process_id_name'))
    )
    with op.batch_alter_table('process_test_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_test_cases_process_id'), ['process_id'], unique=False)


def downgrade():
    with op.batch_alter_table('process_test_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_test_cases_process_id'))
    op.drop_table('process_test_cases')
