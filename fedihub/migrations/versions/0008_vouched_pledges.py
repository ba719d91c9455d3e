"""vouched pledges: why a pledge counts in a call's headline numbers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:00:00

One nullable column on pledges. SQLite's own ALTER TABLE adds and drops it in place (never batch
mode, which would recreate the table).
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('pledges', sa.Column('vouched_by', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('pledges', 'vouched_by')
