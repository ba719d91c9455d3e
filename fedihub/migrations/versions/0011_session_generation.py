"""session generation: logging out revokes every session cookie of the account; no stored link but http(s)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:00:00

Session cookies are signed, not stored: a cookie captured before logout stayed valid for its 14 days.
Each account now counts its session generations; a cookie names the generation it was issued in, and
logging out moves the count on, so every earlier cookie of the account stops working.

Links a peer sent before the reader kept only http(s) ones (a hub member's `url: "javascript:…"` was
rendered on the hub page) are cleared: the next fetch of the actor or object sets them again if they
are links at all.

Native ALTER TABLE ... ADD/DROP COLUMN on both backends (DROP COLUMN needs SQLite 3.35), never batch
mode's table recreation, which would cascade-delete the account's memberships on SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# Columns holding a remote link that pages, feeds and calendars render as an href.
REMOTE_LINKS = (('actors', 'url'), ('actors', 'icon_url'), ('objects', 'url'))


def upgrade() -> None:
    op.add_column('accounts', sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
    for table, column in REMOTE_LINKS:
        op.execute(
            f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL "
            f"AND lower({column}) NOT LIKE 'http://%' AND lower({column}) NOT LIKE 'https://%'"
        )


def downgrade() -> None:
    # The cleared links are not restored: they were never links.
    op.drop_column('accounts', 'session_generation')
