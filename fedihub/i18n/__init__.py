"""The interface's three languages: negotiation, catalogues, the active language and per-locale dates."""
