"""A whole car on one laptop: camera boards running the real firmware under the
MicroPython Unix port, joined to the gateway by pseudo-terminals."""
