"""The technician's console: one board over the link protocol, interactive or one command."""
