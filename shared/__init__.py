"""The board-to-gateway link protocol, imported unchanged by CPython and MicroPython.

Keep this package to the common subset: no f-strings with `=`, no typing, no
dataclasses, only `hashlib`, `binascii` and `struct` from the standard library.
The specification is PROTOCOL.md next to this file.
"""

PROTOCOL_VERSION = 1
