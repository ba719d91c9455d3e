"""local actions get the full shape of a call: end, address, coordinates, online link, description

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:30:00

Six nullable columns on pledges: existing local actions keep what they had (title, start, zone, place).
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COLUMNS = (
    ('action_end', sa.DateTime(timezone=True)),
    ('action_address', sa.Text()),
    ('action_latitude', sa.Float()),
    ('action_longitude', sa.Float()),
    ('action_online_url', sa.String(length=2048)),
    ('action_description', sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
