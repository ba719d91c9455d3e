"""Persistence: typed SQLAlchemy models, engine and session factories, named queries."""
