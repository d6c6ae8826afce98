"""The board side of flashing, through mpremote's serial transport (used as a library).

mpremote's SerialTransport gives the raw REPL and its file helpers
(fs_writefile, fs_hashfile, fs_mkdir); the hash of each file is computed on
the board with its own hashlib, so verification reads back what the flash
really holds.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

# Seconds a board may stay silent, or leave a write unread, before it counts as gone. mpremote
# opens the port with no timeout, so a board that hung mid-copy held `alpr flash` for ever.
IO_TIMEOUT_S = 10.0


class BoardError(AlprError):
    """The board did not let us at its filesystem."""


class BoardFiles:
    """One raw-REPL connection to a MicroPython board."""

    def __init__(self, port: str, baud: int = 115200, soft_reset: bool = False):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self._errors = (TransportError, OSError)
        self.port = port
        try:
            self.t = SerialTransport(port, baudrate=baud, timeout=IO_TIMEOUT_S)
            self.t.serial.write_timeout = IO_TIMEOUT_S
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

    @contextmanager
    def _talking(self, what: str):
        """Turn the board going away (cable pulled, board hung or reset) into a BoardError."""
        try:
            yield
        except self._errors as exc:
            logger.debug("board on %s failed while %s", self.port, what, exc_info=True)
            raise BoardError(
                f"the board on {self.port} stopped answering while {what} ({exc or type(exc).__name__}):"
                " check the USB cable and the board's power, unplug and replug it, and run "
                "`alpr flash` again; it copies and verifies every file afresh") from None

    def mpy_version(self) -> tuple[int, int]:
        """(major, sub) .mpy version the board's MicroPython loads."""
        with self._talking("reading its MicroPython version"):
            self.t.exec("import sys")
            value = self.t.eval("getattr(sys.implementation, '_mpy', 0)")
        return value & 0xFF, (value >> 8) & 3

    def platform(self) -> str:
        with self._talking("reading its platform"):
            self.t.exec("import sys")
            return str(self.t.eval("sys.platform + ' ' + sys.version", parse=False).decode())

    def makedirs(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if not self.t.fs_exists(sub):
                self.t.fs_mkdir(sub)

    def write(self, dest: str, data: bytes) -> None:
        with self._talking(f"writing {dest}"):
            if "/" in dest:
                self.makedirs(dest.rsplit("/", 1)[0])
            self.t.fs_writefile(dest, data)

    def remove_if_present(self, path: str) -> bool:
        with self._talking(f"removing {path}"):
            if self.t.fs_exists(path):
                self.t.fs_rmfile(path)
                return True
        return False

    def sha256(self, path: str) -> str:
        with self._talking(f"reading back {path}"):
            digest = self.t.fs_hashfile(path, "sha256")
        return digest.hex() if digest else ""

    def reset(self) -> None:
        # A hard reset ends the connection; send it and do not wait for the answer.
        with self._talking("resetting it"):
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
