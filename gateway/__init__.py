"""The in-car gateway: link, recognition, store, hotlists, upload and the officer's web UI."""

__version__ = "0.1.0"
