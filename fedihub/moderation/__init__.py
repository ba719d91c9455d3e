"""Moderation: reports (Flag) in and out, blocks of single actors, and what those blocks hide."""
