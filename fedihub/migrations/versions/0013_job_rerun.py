"""job rerun: a one-off job asked for again while it runs goes round once more

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:05:00

Enqueueing a job that is already waiting changes nothing, and a running job counts as waiting. So a
trigger that arrived while the job was running (a pledge's Join while the call's vouch check read the
hubs) was lost: the job finished with what it had read before. The flag makes the runner run it again.

Native ALTER TABLE ... ADD/DROP COLUMN on both backends.
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('rerun', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('jobs', 'rerun')
