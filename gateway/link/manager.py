"""LinkManager: the link stage. Opens ports, keeps them open, hands frames on.

It opens the configured ports, the discovered ones (config.link.discover) and
any added with add_port() (the simulator's), one reader thread each. A port
that fails or disappears is closed and retried every few seconds, so an
unplugged board comes back when plugged in again. Each complete frame goes
to the bounded `frames` queue (a full queue is counted and logged) and to a
short per-board list of latest frames for the devices page.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable

import serial

from gateway import events
from gateway.config import LinkConfig
from gateway.link import ports
from gateway.link.connection import BoardConnection
from gateway.link.frames import ReceivedFrame

logger = logging.getLogger(__name__)

RESCAN_S = 2.0


class _PortWorker:
    def __init__(self, name: str, conn: BoardConnection, ser):
        self.name = name
        self.conn = conn
        self.ser = ser
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self, stop: threading.Event) -> None:
        ser = self.ser
        try:
            while not stop.is_set() and not self.stop.is_set():
                data = ser.read(max(1, min(ser.in_waiting, 65536)))
                if data:
                    self._feed(data)
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial's read on a vanished USB device
            logger.warning("port %s lost (%s); will retry", self.name, exc)
        finally:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass


    def _feed(self, data: bytes) -> None:
        # Only the port's own errors mean "port lost"; a message the connection
        # cannot handle is a bug to log, never a reason to drop the board's port.
        try:
            self.conn.feed(data)
        except Exception:  # noqa: BLE001 - the reader thread outlives any one message
            logger.exception("port %s: a message could not be handled; going on", self.name)


class LinkManager:
    name = "link"

    def __init__(
        self,
        config: LinkConfig,
        frames: queue.Queue | None = None,
        key_lookup: Callable[[str], bytes | None] | None = None,
        extra_ports: list[str] | tuple[str, ...] = (),
        bus: events.EventBus = events.bus,
        on_seen: Callable[[str, str], None] | None = None,
    ):
        if key_lookup is None:
            from gateway.store.devices import device_key as key_lookup
        if on_seen is None:
            from gateway.store.devices import mark_seen as on_seen
        self.config = config
        self.frames: queue.Queue = frames if frames is not None else queue.Queue(config.frame_queue)
        self._key_lookup = key_lookup
        self._on_seen = on_seen
        self._bus = bus
        self._wanted: list[str] = list(config.ports) + list(extra_ports)
        self._workers: dict[str, _PortWorker] = {}
        self._failed_at: dict[str, float] = {}
        self._latest: dict[str, collections.deque] = {}
        self._lock = threading.Lock()
        self.counters = {"frames": 0, "queue_full": 0, "port_opens": 0, "port_failures": 0}

    def add_port(self, name: str) -> None:
        with self._lock:
            if name not in self._wanted:
                self._wanted.append(name)

    # --- the stage ---------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self._reap()
                self._open_missing(stop)
                stop.wait(RESCAN_S)
        finally:
            for worker in list(self._workers.values()):
                worker.stop.set()
            for worker in list(self._workers.values()):
                if worker.thread is not None:
                    worker.thread.join(2.0)

    def _candidates(self) -> list[str]:
        with self._lock:
            names = list(self._wanted)
        if self.config.discover:
            names += [p for p in ports.discover() if p not in names]
        return names

    def _open_missing(self, stop: threading.Event) -> None:
        now = time.monotonic()
        for name in self._candidates():
            if name in self._workers or now - self._failed_at.get(name, -1e9) < RESCAN_S * 2:
                continue
            try:
                ser = ports.open_port(name, self.config.baud)
            except ports.PortError as exc:
                self.counters["port_failures"] += 1
                if name not in self._failed_at:
                    logger.warning("%s", exc)
                self._failed_at[name] = now
                continue
            self._failed_at.pop(name, None)
            self.counters["port_opens"] += 1
            conn = BoardConnection(name, ser.write, self._key_lookup,
                                   self.config.max_frame_bytes, self._frame, self._event)
            worker = _PortWorker(name, conn, ser)
            worker.thread = threading.Thread(target=worker.run, args=(stop,),
                                             name=f"link:{name}", daemon=True)
            self._workers[name] = worker
            worker.thread.start()
            logger.info("listening for a board on %s", name)

    def _reap(self) -> None:
        for name, worker in list(self._workers.items()):
            if worker.thread is not None and not worker.thread.is_alive():
                del self._workers[name]
                self._failed_at[name] = time.monotonic()
                if worker.conn.board_id:
                    self._bus.publish("board", board_id=worker.conn.board_id, health="down",
                                      port=name, reason="port lost")

    # --- callbacks from the port threads ----------------------------------

    def _frame(self, frame: ReceivedFrame) -> None:
        self.counters["frames"] += 1
        with self._lock:
            latest = self._latest.get(frame.board_id)
            if latest is None:
                latest = self._latest[frame.board_id] = collections.deque(
                    maxlen=max(1, self.config.keep_frames))
            latest.append(frame)
        try:
            self.frames.put_nowait(frame)
        except queue.Full:
            self.counters["queue_full"] += 1
            if self.counters["queue_full"] in (1, 10, 100) or self.counters["queue_full"] % 1000 == 0:
                logger.warning("recognition is behind: %d frames not queued (queue of %d full)",
                               self.counters["queue_full"], self.frames.maxsize)

    def _event(self, what: str, conn: BoardConnection) -> None:
        if what == "hello" and conn.board_id:
            try:
                self._on_seen(conn.board_id, str(conn.hello.get("firmware", "")))
            except Exception:  # noqa: BLE001 - a busy database must not drop the link
                logger.exception("could not record board %s as seen", conn.board_id)
        hb = conn.last_heartbeat
        self._bus.publish("board", board_id=conn.board_id, health=conn.health(), port=conn.port,
                          event=what, state=hb.get("state"), uptime_ms=hb.get("uptime_ms"),
                          frames=conn.counters["frames_received"], drops=hb.get("drops", 0))

    # --- queries -----------------------------------------------------------

    def connection(self, board_id: str) -> BoardConnection | None:
        for worker in list(self._workers.values()):
            if worker.conn.board_id == board_id:
                return worker.conn
        return None

    def command(self, board_id: str, cmd: str, args: dict | None = None,
                timeout: float = 3.0) -> dict | None:
        """Send a command to a connected board; its reply, or None on timeout."""
        conn = self.connection(board_id)
        if conn is None:
            return None
        cid = conn.command_nowait(cmd, args)
        return conn.wait_reply(cid, timeout) if cid >= 0 else None

    def stats(self) -> dict[str, dict]:
        """Per board (or per port while no board has said hello): link statistics."""
        out = {}
        for name, worker in list(self._workers.items()):
            st = worker.conn.stats()
            st["frames_kept"] = len(self._latest.get(st["board_id"] or "", ()))
            out[st["board_id"] or f"port:{name}"] = st
        return out

    def latest_frames(self, board_id: str) -> list[ReceivedFrame]:
        """The latest frames from a board, newest first."""
        with self._lock:
            return list(reversed(self._latest.get(board_id, ())))
