"""The board side of flashing, through mpremote's serial transport (used as a library).

mpremote's SerialTransport gives the raw REPL and its file helpers
(fs_writefile, fs_hashfile, fs_mkdir); the hash of each file is computed on
the board with its own hashlib, so verification reads back what the flash
really holds.
"""

from __future__ import annotations

import logging

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class BoardError(AlprError):
    """The board did not let us at its filesystem."""


class BoardFiles:
    """One raw-REPL connection to a MicroPython board."""

    def __init__(self, port: str, baud: int = 115200, soft_reset: bool = False):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self._errors = (TransportError, OSError)
        try:
            self.t = SerialTransport(port, baudrate=baud)
        except self._errors as exc:
            raise BoardError(f"cannot open {port}: {exc}; the port may be in use by another "
                             "program (stop the gateway or `alpr console`)") from None
        try:
            self.t.enter_raw_repl(soft_reset=soft_reset)
        except self._errors as exc:
            self.t.close()
            raise BoardError(
                f"the board on {port} did not give a MicroPython prompt ({exc}). The camera "
                "firmware may be running and holding the port (it passes Ctrl-C through as "
                "data). OpenMV: connect OpenMV IDE, press Stop, close the IDE and run this "
                "again; ESP32-S3: run again with --micropython FILE.bin, which erases the "
                "flash first") from None

    def mpy_version(self) -> tuple[int, int]:
        """(major, sub) .mpy version the board's MicroPython loads."""
        self.t.exec("import sys")
        value = self.t.eval("getattr(sys.implementation, '_mpy', 0)")
        return value & 0xFF, (value >> 8) & 3

    def platform(self) -> str:
        self.t.exec("import sys")
        return str(self.t.eval("sys.platform + ' ' + sys.version", parse=False).decode())

    def makedirs(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if not self.t.fs_exists(sub):
                self.t.fs_mkdir(sub)

    def write(self, dest: str, data: bytes) -> None:
        if "/" in dest:
            self.makedirs(dest.rsplit("/", 1)[0])
        self.t.fs_writefile(dest, data)

    def remove_if_present(self, path: str) -> bool:
        if self.t.fs_exists(path):
            self.t.fs_rmfile(path)
            return True
        return False

    def sha256(self, path: str) -> str:
        digest = self.t.fs_hashfile(path, "sha256")
        return digest.hex() if digest else ""

    def reset(self) -> None:
        # A hard reset ends the connection; send it and do not wait for the answer.
        self.t.exec_raw_no_follow("import machine\nmachine.reset()")

    def close(self) -> None:
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
        except self._errors:
            pass
        try:
            self.t.close()
        except self._errors:
            pass
