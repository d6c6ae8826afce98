"""The car's position for each read: NMEA sentences over a serial port, or gpsd.

`GpsSource.position()` returns the latest fix no older than `max_age_s`, or
None: a read is never stored with a stale position. Sources run in their own
thread (`run(stop)`, like a stage) and reconnect after errors.

NMEA: $--RMC (status A) and $--GGA (quality > 0) sentences with a valid
checksum. gpsd: the JSON protocol on TCP, `?WATCH` then TPV reports with
mode >= 2.
"""

from __future__ import annotations

import collections
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class GpsError(AlprError):
    """The configured GPS source cannot be used."""


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    at: float  # gateway clock (time.monotonic()) when received


def _checksum_ok(sentence: str) -> bool:
    if not sentence.startswith("$") or "*" not in sentence:
        return False
    body, _, given = sentence[1:].partition("*")
    calc = 0
    for ch in body:
        calc ^= ord(ch)
    try:
        return int(given[:2], 16) == calc
    except ValueError:
        return False


def _coord(value: str, hemi: str) -> float | None:
    if not value or hemi not in "NSEW" or not hemi:
        return None
    try:
        dot = value.index(".")
        degrees = float(value[: dot - 2])
        minutes = float(value[dot - 2:])
    except ValueError:
        return None
    out = degrees + minutes / 60.0
    return -out if hemi in "SW" else out


def parse_nmea(sentence: str) -> tuple[float, float] | None:
    """(lat, lon) from a valid RMC or GGA sentence with a fix, else None."""
    sentence = sentence.strip()
    if not _checksum_ok(sentence):
        return None
    fields = sentence[1:].split("*")[0].split(",")
    kind = fields[0][2:]
    if kind == "RMC" and len(fields) >= 7 and fields[2] == "A":
        lat, lon = _coord(fields[3], fields[4]), _coord(fields[5], fields[6])
    elif kind == "GGA" and len(fields) >= 7 and fields[6] not in ("", "0"):
        lat, lon = _coord(fields[2], fields[3]), _coord(fields[4], fields[5])
    else:
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def parse_gpsd(line: str) -> tuple[float, float] | None:
    """(lat, lon) from a gpsd TPV report with a 2D or 3D fix, else None."""
    try:
        msg = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return _tpv_position(msg)


def _tpv_position(msg) -> tuple[float, float] | None:
    if not isinstance(msg, dict) or msg.get("class") != "TPV" or not _number(msg.get("mode")) or msg["mode"] < 2:
        return None
    lat, lon = msg.get("lat"), msg.get("lon")
    if not _number(lat) or not _number(lon) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None  # NaN fails the range too: a read is stored without a position, never a wrong one
    return float(lat), float(lon)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


NO_FIX = ("the receiver reports no fix (it needs a clear view of the sky: check the antenna's place; "
          "a cold start can take minutes)")


class GpsSource:
    """A position source run in its own thread. Besides the fix it watches what it receives, so
    that a GPS giving no position says why in the log (nothing received, garbage, no fix) once
    per outage, and a lost connection is logged once with what to check, not at every retry."""

    name = "gps"
    what = "the GPS"  # in log lines
    check = ""  # what to check when the connection is lost

    def __init__(self, max_age_s: float = 5.0, retry_s: float = 5.0, quiet_s: float = 30.0):
        self.max_age_s = max_age_s
        self.retry_s = retry_s
        self.quiet_s = quiet_s
        self._fix: Fix | None = None
        self._lock = threading.Lock()
        self._seen: collections.Counter[str] = collections.Counter()
        self._seen_since = time.monotonic()
        self._warned = False
        self._failures = 0

    def update(self, lat: float, lon: float) -> None:
        with self._lock:
            self._fix = Fix(lat, lon, time.monotonic())

    def position(self) -> tuple[float, float] | None:
        with self._lock:
            fix = self._fix
        if fix is None or time.monotonic() - fix.at > self.max_age_s:
            return None
        return fix.latitude, fix.longitude

    def read(self, line: str) -> tuple[str, tuple[float, float] | None]:
        """What one received line is, and its position when it is a fix; subclasses choose the
        parser (nmea_kind, gpsd_kind)."""
        raise NotImplementedError

    def feed(self, line: str) -> str | None:
        """Hand one received line to the parser. Returns what the line was: "fix", "nofix" (a
        report without a position), "other" (understood, not a report) or "invalid" (garbage)."""
        kind, position = self.read(line)
        if position:
            self.update(*position)
        return kind

    def lines(self, stop: threading.Event):
        """Yield received lines until stop, and "" when nothing came for a while; raise OSError
        on a lost connection."""
        raise NotImplementedError

    def why_quiet(self, seen: collections.Counter) -> str:
        """Why no position came, from what was received meanwhile (kind -> lines)."""
        return ", ".join(f"{n} {kind}" for kind, n in seen.items()) or "nothing received"

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._seen.clear()
            self._seen_since = time.monotonic()
            try:
                for line in self.lines(stop):
                    if self._failures:
                        logger.warning("%s is back after %d failed attempts to reach it", self.what, self._failures)
                        self._failures = 0
                    self._note(self.feed(line) if line else None)
                    if stop.is_set():
                        return
            except OSError as exc:
                self._failures += 1
                # the first failure says what to check; the same again every retry_s would bury the log
                log = logger.warning if self._failures == 1 else logger.debug
                log("%s is lost (%s); %sretrying every %g s, reads are stored without position meanwhile",
                    self.what, exc, f"{self.check}; " if self.check else "", self.retry_s)
            except Exception:  # noqa: BLE001 - no supervisor restarts this thread: it must not end
                logger.exception("GPS source failed on what it received; reconnecting in %g s", self.retry_s)
            stop.wait(self.retry_s)

    def _note(self, kind: str | None) -> None:
        now = time.monotonic()
        if kind == "fix":
            if self._warned:
                logger.warning("%s has a position again", self.what)
                self._warned = False
            self._seen.clear()
            self._seen_since = now
            return
        if kind:
            self._seen[kind] += 1
        if now - self._seen_since >= self.quiet_s:
            if not self._warned:
                logger.warning("%s gave no position for %.0f s: %s; reads are stored without position",
                               self.what, now - self._seen_since, self.why_quiet(self._seen))
                self._warned = True
            self._seen.clear()
            self._seen_since = now


def nmea_kind(sentence: str) -> tuple[str, tuple[float, float] | None]:
    """What an NMEA line is: "fix", "nofix" (an RMC or GGA without a fix), "other" (another
    valid sentence) or "invalid" (a bad checksum, garbage); and the position of a fix."""
    sentence = sentence.strip()
    if not _checksum_ok(sentence):
        return "invalid", None
    position = parse_nmea(sentence)
    if position:
        return "fix", position
    return ("nofix" if sentence[1:].split(",")[0][2:] in ("RMC", "GGA") else "other"), None


def gpsd_kind(line: str) -> tuple[str, tuple[float, float] | None]:
    """The same for a gpsd JSON line: a TPV without a 2D/3D fix is "nofix"."""
    try:
        msg = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "invalid", None
    if not isinstance(msg, dict) or "class" not in msg:
        return "invalid", None
    position = _tpv_position(msg)
    if position:
        return "fix", position
    return ("nofix" if msg["class"] == "TPV" else "other"), None


class NmeaSerial(GpsSource):
    def __init__(self, port: str, baud: int = 4800, **kw):
        super().__init__(**kw)
        if not port:
            raise GpsError("gps.source is nmea but gps.port is empty; set the receiver's serial port")
        self.port, self.baud = port, baud
        self.what = f"the GPS receiver on {port}"
        # a receiver replugged while its old device was still open comes back as another
        # ttyUSBn; its /dev/serial/by-id/ name stays the same
        self.check = ("check its USB cable and gps.port" if port.startswith("/dev/serial/by-id/") else
                      "check its USB cable and gps.port (a /dev/serial/by-id/ path keeps its name when replugged)")

    def read(self, line: str) -> tuple[str, tuple[float, float] | None]:
        return nmea_kind(line)

    def why_quiet(self, seen) -> str:
        if seen["nofix"]:
            return NO_FIX
        if seen["other"]:
            return (f"{seen['other']} valid sentences but no RMC or GGA: set the receiver to send RMC or GGA")
        if seen["invalid"]:
            return (f"{seen['invalid']} lines, none a valid NMEA sentence (bad checksums or garbage): check "
                    f"gps.baud ({self.baud} now; receivers mostly use 4800 or 9600)")
        return "nothing received: check that the receiver has power and is the device at gps.port"

    def lines(self, stop):
        import serial

        try:
            conn = serial.serial_for_url(self.port, self.baud, timeout=1.0)
        except (serial.SerialException, ValueError) as exc:  # ValueError: a URL pyserial does not know
            raise OSError(f"cannot open {self.port}: {exc}") from None
        with conn:
            while not stop.is_set():
                try:
                    raw = conn.readline()
                except serial.SerialException as exc:
                    raise OSError(str(exc)) from None
                yield raw.decode("ascii", "replace") if raw else ""


class Gpsd(GpsSource):
    def __init__(self, host: str = "127.0.0.1", port: int = 2947, **kw):
        super().__init__(**kw)
        self.host, self.port = host, port
        self.what = f"gpsd at {host}:{port}"
        self.check = "check that gpsd runs (systemctl status gpsd) and gps.gpsd_host/gpsd_port"

    def read(self, line: str) -> tuple[str, tuple[float, float] | None]:
        return gpsd_kind(line)

    def why_quiet(self, seen) -> str:
        if seen["nofix"]:
            return NO_FIX
        if seen["invalid"] and not seen["other"]:
            return (f"{seen['invalid']} lines that are not gpsd's JSON: is gps.gpsd_port "
                    f"({self.port}) gpsd's port?")
        return "gpsd reports no receiver data: check that it has the receiver's device (gpsmon shows it)"

    def lines(self, stop):
        with socket.create_connection((self.host, self.port), timeout=5.0) as sock:
            sock.sendall(b'?WATCH={"enable":true,"json":true}\n')
            sock.settimeout(1.0)
            buf = b""
            while not stop.is_set():
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    yield ""
                    continue
                if not chunk:
                    raise OSError("gpsd closed the connection")
                buf += chunk
                *done, buf = buf.split(b"\n")
                for raw in done:
                    yield raw.decode("utf-8", "replace")
                if len(buf) > 65536:  # no line end in 64 KiB: not gpsd talking
                    yield "\0"
                    buf = b""


def from_config(gps) -> GpsSource | None:
    """The source `config.gps` asks for, or None for `source = "none"`."""
    if gps.source == "nmea":
        return NmeaSerial(gps.port, gps.baud)
    if gps.source == "gpsd":
        return Gpsd(gps.gpsd_host, gps.gpsd_port)
    return None
