"""Pure ActivityPub protocol core: no database, no web framework, no settings."""
