"""session generation: logging out revokes every session cookie of the account

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-05 07:00:00

Session cookies are signed, not stored: a cookie captured before logout stayed valid for its 14 days.
Each account now counts its session generations; a cookie names the generation it was issued in, and
logging out moves the count on, so every earlier cookie of the account stops working.

Native ALTER TABLE ... ADD/DROP COLUMN on both backends (DROP COLUMN needs SQLite 3.35), never batch
mode's table recreation, which would cascade-delete the account's memberships on SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('accounts', sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('accounts', 'session_generation')
