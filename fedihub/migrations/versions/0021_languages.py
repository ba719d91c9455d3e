"""languages: a call's language, each person's and subscriber's language, and the suggested movements

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-03 12:30:00

`objects.language` is the language a call (or any object) is written in, ours or a peer's;
`accounts.language` and `mail_subscriptions.language` say which language to write mail in.
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('objects') as batch:
        batch.add_column(sa.Column('language', sa.String(length=35), nullable=True))
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('mail_subscriptions') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mail_subscriptions') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('objects') as batch:
        batch.drop_column('language')
