"""notices: "What's new" for organizers, how far each account read, and its e-mail preferences

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:30:00

New tables only: one row per notice to a local coalition or hub, one per account and actor it has
read up to, one per account and kind of notice it wants by e-mail otherwise than the default, and
one per notice e-mailed to an account (so none is mailed twice).
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=2048), nullable=False),
        sa.Column('party_uri', sa.String(length=2048), nullable=True),
        sa.Column('party_name', sa.Text(), nullable=True),
        sa.Column('party_url', sa.String(length=2048), nullable=True),
        sa.Column('call_uri', sa.String(length=2048), nullable=True),
        sa.Column('call_title', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('actor_id', 'kind', 'key'),
    )
    op.create_index('ix_notices_actor_id_id', 'notices', ['actor_id', 'id'])
    op.create_index('ix_notices_created_at', 'notices', ['created_at'])
    op.create_table(
        'notice_reads',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('last_read_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'actor_id'),
    )
    op.create_table(
        'notice_preferences',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('delivery', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'kind'),
    )
    op.create_table(
        'notice_mails',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'notice_id'),
    )
    op.create_index('ix_notice_mails_notice_id', 'notice_mails', ['notice_id'])


def downgrade() -> None:
    op.drop_index('ix_notice_mails_notice_id', table_name='notice_mails')
    op.drop_table('notice_mails')
    op.drop_table('notice_preferences')
    op.drop_table('notice_reads')
    op.drop_index('ix_notices_created_at', table_name='notices')
    op.drop_index('ix_notices_actor_id_id', table_name='notices')
    op.drop_table('notices')
