"""pledge list versions: a sequence number on pledge notices, and when a call's audience was last told

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:40:00

`objects.pledges_version` is the version of a call's pledge list (at the origin, bumped by each change
told to the call's audience; on a copy, the newest one applied); `objects.pledges_noticed_version`
and `objects.pledges_noticed_at` say what the origin last told the audience and when, so changes
coming faster than one notice per minute are folded into one.
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('objects') as batch:
        batch.add_column(sa.Column('pledges_version', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('pledges_noticed_version', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('pledges_noticed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objects') as batch:
        batch.drop_column('pledges_noticed_at')
        batch.drop_column('pledges_noticed_version')
        batch.drop_column('pledges_version')
