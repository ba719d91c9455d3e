"""The coalition domain: coalitions as Group actors, their announcements and calls to action.

The stored rows its pages show (actors, their posts and calls, avatars) are named here so the web
layer can annotate with them without importing storage.
"""

from fedihub.storage.models import Actor, Media, StoredObject

__all__ = ["Actor", "Media", "StoredObject"]
