"""Byte transports to the gateway: UART, USB CDC, and a pseudo-terminal (Unix port).

The interface every backend implements (framing lives in shared.framing):

    readinto(buf) -> int   read what is waiting into buf, without blocking; 0 if nothing
    write(data)            write all of data (bytes, bytearray or memoryview)
    close()
    allow_interrupt(on)    service mode: let Ctrl-C through to the REPL (USB only)

make_transport(cfg) picks the backend named by cfg["transport"] ("auto": the
pty when cfg["pty"] is set, else UART on a board, else USB CDC).
"""

import sys


class TransportError(Exception):
    pass


class Transport:
    name = "base"

    def readinto(self, buf):
        raise NotImplementedError

    def write(self, data):
        raise NotImplementedError

    def close(self):
        pass

    def allow_interrupt(self, on):
        """Service mode on USB: let Ctrl-C reach the REPL (mpremote, a technician)."""


class PtyTransport(Transport):
    """A pseudo-terminal path on the MicroPython Unix port (the simulator's link)."""

    name = "pty"

    def __init__(self, path):
        import termios

        try:
            self._f = open(path, "r+b")
        except OSError:
            raise TransportError("cannot open " + path)
        fd = self._f.fileno()
        termios.setraw(fd)
        attrs = termios.tcgetattr(fd)
        # VMIN = VTIME = 0: a read returns what is there, at once (MicroPython's
        # readinto otherwise waits for the whole buffer).
        attrs[6][5] = 0
        attrs[6][6] = 0
        termios.tcsetattr(fd, termios.TCSANOW, attrs)

    def readinto(self, buf):
        n = self._f.readinto(buf)
        return n or 0

    def write(self, data):
        self._f.write(data)

    def close(self):
        self._f.close()


class UartTransport(Transport):
    """A hardware UART (machine.UART), e.g. to a USB-UART bridge on the gateway."""

    name = "uart"

    def __init__(self, uart_id, baud, tx=None, rx=None):
        from machine import UART

        kwargs = {"baudrate": baud, "timeout": 0, "rxbuf": 8192}
        if tx is not None and rx is not None:
            kwargs["tx"] = tx
            kwargs["rx"] = rx
        try:
            self._u = UART(uart_id, **kwargs)
        except TypeError:
            # Older ports do not take rxbuf/pins as keywords.
            self._u = UART(uart_id, baud, timeout=0)

    def readinto(self, buf):
        if not self._u.any():
            return 0
        return self._u.readinto(buf) or 0

    def write(self, data):
        mv = memoryview(data)
        while mv:
            n = self._u.write(mv)
            if n:
                mv = mv[n:]


class UsbCdcTransport(Transport):
    """USB CDC through sys.stdin/stdout.buffer, with Ctrl-C passed through as data."""

    name = "usb"

    def __init__(self):
        import micropython
        import select

        micropython.kbd_intr(-1)
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._one = bytearray(1)

    def readinto(self, buf):
        # stdin reads block until the buffer is full, so take what poll says is there byte by byte.
        n = 0
        size = len(buf)
        while n < size and self._poll.poll(0):
            if not self._in.readinto(self._one):
                break
            buf[n] = self._one[0]
            n += 1
        return n

    def write(self, data):
        self._out.write(data)

    def allow_interrupt(self, on):
        import micropython

        micropython.kbd_intr(3 if on else -1)


class LoopbackTransport(Transport):
    """In-memory pair end, for tests: what one end writes the other reads."""

    name = "loopback"

    def __init__(self):
        self.inbox = bytearray()
        self.peer = None

    def readinto(self, buf):
        n = min(len(buf), len(self.inbox))
        buf[:n] = self.inbox[:n]
        self.inbox = self.inbox[n:]
        return n

    def write(self, data):
        if self.peer is not None:
            self.peer.inbox.extend(data)


def loopback_pair():
    a = LoopbackTransport()
    b = LoopbackTransport()
    a.peer = b
    b.peer = a
    return a, b


def make_transport(cfg, pins=None):
    kind = cfg["transport"]
    if kind == "auto":
        if cfg["pty"]:
            kind = "pty"
        elif sys.platform in ("linux", "darwin"):
            raise TransportError("on the Unix port set 'pty' (the simulator does)")
        else:
            kind = "uart" if pins and "uart_tx" in pins else "usb"
    try:
        if kind == "pty":
            return PtyTransport(cfg["pty"])
        if kind == "uart":
            tx = pins.get("uart_tx") if pins else None
            rx = pins.get("uart_rx") if pins else None
            return UartTransport(cfg["uart_id"], cfg["baud"], tx, rx)
        return UsbCdcTransport()
    except ImportError:
        # machine.UART, termios, select: absent where this port has no such line.
        raise TransportError("no driver for transport '" + kind + "' on this board")
