"""moderation: reports (Flag in and out), the coalitions they are about, and blocks of single actors

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('actor_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('coalition_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coalition_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_id', 'coalition_id')
    )
    op.create_index('ix_actor_blocks_actor_id', 'actor_blocks', ['actor_id'], unique=False)
    op.create_index('ix_actor_blocks_coalition_id', 'actor_blocks', ['coalition_id'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('reporter_uri', sa.String(length=2048), nullable=False),
    sa.Column('origin_host', sa.String(length=255), nullable=False),
    sa.Column('target_host', sa.String(length=255), nullable=False),
    sa.Column('actor_uris', sa.JSON(), nullable=False),
    sa.Column('object_uris', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['sent_by_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    op.create_index('ix_reports_origin_received', 'reports', ['origin_host', 'received_at'], unique=False)
    op.create_table('report_coalitions',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('coalition_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coalition_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'coalition_id')
    )
    op.create_index('ix_report_coalitions_coalition_id', 'report_coalitions', ['coalition_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_coalitions_coalition_id', table_name='report_coalitions')
    op.drop_table('report_coalitions')
    op.drop_index('ix_reports_origin_received', table_name='reports')
    op.drop_table('reports')
    op.drop_index('ix_actor_blocks_coalition_id', table_name='actor_blocks')
    op.drop_index('ix_actor_blocks_actor_id', table_name='actor_blocks')
    op.drop_table('actor_blocks')
