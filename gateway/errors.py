"""Named errors with messages a technician or an officer can act on.

Every error the project raises on purpose derives from AlprError; the `alpr`
command prints its message as `alpr: message` and exits 1. Each subpackage
defines its own subclasses next to the code that raises them.
"""


class AlprError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(AlprError):
    """The configuration file or an option is invalid; the message names the field."""


class DataFolderError(AlprError):
    """The data folder is missing, unwritable or not ours."""
