"""annual reports of a collaboration: a joint body's report over every agreement it serves (issue #20 item 7)

Revision ID: b4c7d91e0520
Revises: b3c7d91e0510
Create Date: 2026-12-04

A report is either one agreement's (agreement_id) or one joint body's (body_id), never both nor neither;
one report per body and year. Existing reports are all agreements' and keep their agreement_id.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b4c7d91e0520'
down_revision = 'b3c7d91e0510'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.alter_column('agreement_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('body_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_annual_reports_body_id_joint_bodies'), 'joint_bodies',
                                    ['body_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_annual_reports_body_id'), ['body_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_annual_reports_body_id_year'), ['body_id', 'year'])
        batch_op.create_check_constraint(batch_op.f('ck_annual_reports_agreement_or_body'),
                                         '(agreement_id IS NULL) <> (body_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM annual_reports WHERE body_id IS NOT NULL")
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_annual_reports_agreement_or_body'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_annual_reports_body_id_year'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_annual_reports_body_id'))
        batch_op.drop_constraint(batch_op.f('fk_annual_reports_body_id_joint_bodies'), type_='foreignkey')
        batch_op.drop_column('body_id')
        batch_op.alter_column('agreement_id', existing_type=sa.Integer(), nullable=False)
