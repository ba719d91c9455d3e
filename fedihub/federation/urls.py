"""The URL of everything this instance publishes; ids are stable forever and never redirect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    base: str

    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def actor(self, username: str) -> str:
        return f"{self.base}/g/{username}"

    def key_id(self, actor_uri: str) -> str:
        return f"{actor_uri}#main-key"

    def inbox(self, actor_uri: str) -> str:
        return f"{actor_uri}/inbox"

    def outbox(self, actor_uri: str) -> str:
        return f"{actor_uri}/outbox"

    def followers(self, actor_uri: str) -> str:
        return f"{actor_uri}/followers"

    def following(self, actor_uri: str) -> str:
        return f"{actor_uri}/following"

    def featured(self, actor_uri: str) -> str:
        return f"{actor_uri}/featured"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def new_object(self) -> str:
        return f"{self.base}/o/{uuid.uuid4()}"

    def new_activity(self) -> str:
        return f"{self.base}/a/{uuid.uuid4()}"

    def is_local(self, uri: str) -> bool:
        return uri == self.base or uri.startswith(self.base + "/") or uri.startswith(self.base + "#")
