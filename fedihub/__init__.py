"""fedihub: a federated ActivityPub server that connects activist coalitions."""

__version__ = "0.1.0"
