"""Giving a camera board its identity: key, device-list entry, board config file."""
