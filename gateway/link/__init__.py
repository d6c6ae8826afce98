"""The gateway's end of the board link: ports, reassembly, authentication, statistics."""
