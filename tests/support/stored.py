"""What an instance stored, read back for a test's assertions."""

from __future__ import annotations

from sqlalchemy import select

from fedihub.storage.models import StoredObject
from tests.support.network import Instance


async def only_event(instance: Instance) -> StoredObject:
    """The one call to action (Event) the instance holds; fails when there is none or more than one."""
    async with instance.ctx.sessions() as session:
        [row] = (await session.scalars(select(StoredObject).where(StoredObject.type == "Event"))).all()
        return row
