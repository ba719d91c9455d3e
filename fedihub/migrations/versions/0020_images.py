"""images: banners of calls and coalitions, uploads kept after a form error, peers' pictures fetched through us

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 12:30:00

Columns only: the banner URL and alt text of actors and objects, and on media what each row is
for (avatar, banner, pending, remote), a thumbnail, the owner and expiry of a pending upload, and
the source of a remote picture.
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('actors', 'objects'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('image_url', sa.String(length=2048), nullable=True))
            batch_op.add_column(sa.Column('image_alt', sa.Text(), nullable=True))
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='avatar', nullable=False))
        batch_op.add_column(sa.Column('thumbnail', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('source_url', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_media_account_id_accounts', 'accounts', ['account_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_media_source_url'), ['source_url'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_source_url'))
        batch_op.drop_constraint('fk_media_account_id_accounts', type_='foreignkey')
        for column in ('expires_at', 'source_url', 'file_name', 'account_id', 'thumbnail', 'purpose'):
            batch_op.drop_column(column)
    for table in ('objects', 'actors'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('image_alt')
            batch_op.drop_column('image_url')
