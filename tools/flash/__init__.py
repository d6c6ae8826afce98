"""Putting MicroPython, the firmware and a board's config on a camera board."""
