"""agreements: each party's route to "gäller för parten" (decision with anslag, delegation, signed agreement),
the decision's documents and KL deadline warnings, and the proposal's registration on arrival (issue #19)

Revision ID: e6f1a3b80240
Revises: d4a7e2c92320
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6f1a3b80240'
down_revision = 'd4a7e2c92320'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreement_proposal_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('adoption_round', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('diarienummer', sa.String(length=50), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('prepared_by', sa.String(length=200), nullable=False),
    sa.Column('prepared_on', sa.Date(), nullable=True),
    sa.Column('prepared_paragraph', sa.String(length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_agreement_proposal_receipts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_agreement_proposal_receipts_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['agreement_versions.id'],
                            name=op.f('fk_agreement_proposal_receipts_version_id_agreement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_proposal_receipts')),
    sa.UniqueConstraint('version_id', 'adoption_round', 'organisation_id',
                        name=op.f('uq_agreement_proposal_receipts_version_id_adoption_round_organisation_id'))
    )
    # Decisions recorded before this change were all taken at a meeting with justering and anslag.
    with op.batch_alter_table('agreement_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.String(length=32), nullable=False, server_default='decision_with_posting'))
        batch_op.add_column(sa.Column('delegate', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('delegation_reference', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signatory', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('report_attachment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('extract_attachment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deadline_warnings', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_foreign_key(batch_op.f('fk_agreement_decisions_report_attachment_id_inbox_attachments'),
                                    'inbox_attachments', ['report_attachment_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_agreement_decisions_extract_attachment_id_inbox_attachments'),
                                    'inbox_attachments', ['extract_attachment_id'], ['id'])


def downgrade():
    with op.batch_alter_table('agreement_decisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agreement_decisions_extract_attachment_id_inbox_attachments'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_agreement_decisions_report_attachment_id_inbox_attachments'),
                                 type_='foreignkey')
        for column in ('deadline_warnings', 'extract_attachment_id', 'report_attachment_id', 'signatory',
                       'delegation_reference', 'delegate', 'route'):
            batch_op.drop_column(column)
    op.drop_table('agreement_proposal_receipts')
