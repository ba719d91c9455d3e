"""mail subscriptions: the public subscribes by e-mail to calls; mail gets attachments

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:40:00

Two new tables (subscriptions, and which call revision each one was mailed) and one nullable
column on mail_outbox for the .ics attachment. Native CREATE TABLE / ADD COLUMN only.
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('mail_outbox', sa.Column('attachments', sa.JSON(), nullable=True))
    op.create_table(
        'mail_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('target', sa.String(length=700), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('movement', sa.String(length=100), nullable=True),
        sa.Column('region', sa.String(length=200), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('confirm_token_hash', sa.String(length=64), nullable=True),
        sa.Column('confirm_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirm_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('address', 'target'),
        sa.UniqueConstraint('confirm_token_hash'),
    )
    op.create_index('ix_mail_subscriptions_address', 'mail_subscriptions', ['address'])
    op.create_index('ix_mail_subscriptions_actor_id', 'mail_subscriptions', ['actor_id'])
    op.create_table(
        'subscription_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('call_uri', sa.String(length=2048), nullable=False),
        sa.Column('revision', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['mail_subscriptions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscription_id', 'call_uri', 'revision'),
    )
    op.create_index('ix_subscription_mails_subscription_id', 'subscription_mails', ['subscription_id'])


def downgrade() -> None:
    op.drop_index('ix_subscription_mails_subscription_id', table_name='subscription_mails')
    op.drop_table('subscription_mails')
    op.drop_index('ix_mail_subscriptions_actor_id', table_name='mail_subscriptions')
    op.drop_index('ix_mail_subscriptions_address', table_name='mail_subscriptions')
    op.drop_table('mail_subscriptions')
    op.drop_column('mail_outbox', 'attachments')
