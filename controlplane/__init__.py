"""coxswain's control plane: API types, store, API server, client, scheduler, controllers, CLI."""

__version__ = "0.1.0"
