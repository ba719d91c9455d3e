"""Hubs: Group actors that follow coalitions and other hubs and boost their calls up the tree."""
