"""faas-tui: a terminal dashboard and encrypted store for the secrets of serverless functions."""

__version__ = "0.1.0"
