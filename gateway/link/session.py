"""A CPython client for one board, for the console and scripts.

    from gateway.link.session import BoardSession
    with BoardSession.open("/dev/ttyACM0", key=bytes.fromhex(KEY)) as s:  # or key_lookup=
        s.wait_hello(timeout=6)          # the board says hello within ~4 s of silence
        reply = s.command("status")      # {"id":..,"ok":True,"result":{...}}
        s.command("config_set", {"burst": 3})

Commands: status, config_get, config_set {key: value...}, trigger_test,
test_frame, self_test, reboot, time_sync {time}, service_mode {on: bool}.
The port is opened without toggling DTR/RTS (see gateway.link.ports). The
session answers the board's heartbeats and transfers like the gateway does,
so a test frame arrives in `frames`.
"""

from __future__ import annotations

import threading
import time

import serial

from gateway.errors import AlprError
from gateway.link import ports
from gateway.link.connection import BoardConnection
from gateway.link.frames import ReceivedFrame


class SessionError(AlprError):
    """The board did not answer as expected."""


class BoardSession:
    def __init__(self, ser, key_lookup):
        self.ser = ser
        self.frames: list[ReceivedFrame] = []
        self.conn = BoardConnection(ser.port or "port", ser.write, key_lookup,
                                    on_frame=self.frames.append)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="board-session", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, port: str, key: bytes | None = None, key_lookup=None, baud: int = 921600):
        if key_lookup is None:
            if key is None:
                raise SessionError("a board key (or a key lookup) is needed to talk to a board")
            key_lookup = lambda _board_id: key  # noqa: E731
        return cls(ports.open_port(port, baud), key_lookup)

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                data = self.ser.read(max(1, self.ser.in_waiting))
                if data:
                    self.conn.feed(data)
        except (serial.SerialException, OSError, TypeError):
            self._stop.set()

    @property
    def board_id(self) -> str | None:
        return self.conn.board_id

    def _port_gone(self) -> SessionError:
        return SessionError(
            f"{self.conn.port} closed: the board was unplugged, lost power or reset its USB; "
            "plug it back in (check the cable) and connect again")

    def wait_hello(self, timeout: float = 6.0) -> dict:
        deadline = time.monotonic() + timeout
        while self.conn.board_id is None:
            if self._stop.is_set():
                raise self._port_gone()
            if time.monotonic() > deadline:
                errs = {k: v for k, v in self.conn.stats()["errors"].items() if v}
                raise SessionError(
                    f"no authenticated hello from a board on {self.conn.port} in {timeout:.0f} s"
                    + (f" (errors: {errs})" if errs else "")
                    + "; check the cable, the baud rate and that the board is provisioned")
            time.sleep(0.05)
        return self.conn.hello

    def command(self, cmd: str, args: dict | None = None, timeout: float = 3.0) -> dict:
        if self.conn.board_id is None:
            self.wait_hello()
        cid = self.conn.command_nowait(cmd, args)
        reply = self.conn.wait_reply(cid, timeout) if cid >= 0 else None
        # A write that failed is most often the port going away: the reader sees it a moment later.
        if reply is None and (self._stop.is_set() or (cid < 0 and self._stop.wait(1.0))):
            raise self._port_gone()
        if cid < 0:
            raise SessionError(f"could not send {cmd!r} to board {self.conn.board_id} on "
                               f"{self.conn.port} (the link is down); wait for its hello and "
                               "try again")
        if reply is None:
            raise SessionError(f"board {self.conn.board_id} did not answer {cmd!r} in {timeout:.0f} s")
        return reply

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        try:
            self.ser.close()
        except (serial.SerialException, OSError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
