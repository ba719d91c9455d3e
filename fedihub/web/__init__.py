"""The web layer: Starlette routes for ActivityPub endpoints, well-known documents and HTML pages."""
