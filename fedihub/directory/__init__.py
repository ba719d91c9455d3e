"""The directory of coalitions and hubs: listing, roster discovery and map points."""
