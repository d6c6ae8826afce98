"""GPS positions from NMEA sentences (serial) and gpsd (TCP JSON)."""

import json
import socket
import threading
import time

import pytest

from gateway.config import GpsConfig
from gateway.recognition import gps

RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"


def nmea(body: str) -> str:
    check = 0
    for ch in body:
        check ^= ord(ch)
    return f"${body}*{check:02X}"


def test_nmea_rmc_and_gga():
    lat, lon = gps.parse_nmea(RMC)
    assert lat == pytest.approx(48.1173, abs=1e-4) and lon == pytest.approx(11.5167, abs=1e-4)
    assert gps.parse_nmea(GGA) == pytest.approx((lat, lon))
    south_west = nmea("GNRMC,010203,A,3402.500,S,11815.000,W,0.0,0.0,281126,,")
    assert gps.parse_nmea(south_west) == pytest.approx((-34.041667, -118.25), abs=1e-5)


@pytest.mark.parametrize("sentence", [
    RMC.replace("*6A", "*6B"),  # bad checksum
    nmea("GPRMC,123519,V,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),  # no fix
    nmea("GPGGA,123519,4807.038,N,01131.000,E,0,00,,,M,,M,,"),  # quality 0
    nmea("GPGSV,3,1,11,03,03,111,00"),
    "garbage", "", "$GPRMC,no,checksum",
])
def test_nmea_without_a_fix_gives_nothing(sentence):
    assert gps.parse_nmea(sentence) is None


def test_gpsd_tpv():
    assert gps.parse_gpsd(json.dumps({"class": "TPV", "mode": 3, "lat": 34.05, "lon": -118.25})) == (34.05, -118.25)
    assert gps.parse_gpsd(json.dumps({"class": "TPV", "mode": 1})) is None
    assert gps.parse_gpsd(json.dumps({"class": "SKY"})) is None
    assert gps.parse_gpsd("{not json") is None


def test_stale_fix_is_not_used():
    src = gps.GpsSource(max_age_s=0.05)
    assert src.position() is None
    src.update(1.0, 2.0)
    assert src.position() == (1.0, 2.0)
    time.sleep(0.1)
    assert src.position() is None


def _serve(lines: list[bytes], expect: bytes | None = None, repeat: bool = False):
    """A one-connection server; with repeat it sends the lines every 0.1 s like a receiver
    talking once a second, because pyserial's socket:// open discards what arrived first."""
    server = socket.create_server(("127.0.0.1", 0))
    got = []

    def serve():
        conn, _ = server.accept()
        with conn:
            if expect is not None:
                got.append(conn.recv(100))
            deadline = time.monotonic() + 5
            try:
                while True:
                    for line in lines:
                        conn.sendall(line)
                    if not repeat or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
            except OSError:
                pass  # the client has what it needed and hung up
            time.sleep(2)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], got


def _wait_position(src, stop):
    thread = threading.Thread(target=src.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while src.position() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(3)
    return src.position()


def test_gpsd_client_over_tcp():
    tpv = json.dumps({"class": "TPV", "mode": 2, "lat": 37.5, "lon": -122.1}).encode() + b"\n"
    port, got = _serve([b'{"class":"VERSION"}\n', tpv], expect=b"?WATCH")
    src = gps.from_config(GpsConfig(source="gpsd", gpsd_port=port))
    assert _wait_position(src, threading.Event()) == (37.5, -122.1)
    assert got and got[0].startswith(b"?WATCH")


def test_nmea_receiver_through_pyserial_url():
    port, _ = _serve([b"$GPGSV,junk\r\n", RMC.encode() + b"\r\n"], repeat=True)
    src = gps.from_config(GpsConfig(source="nmea", port=f"socket://127.0.0.1:{port}"))
    assert _wait_position(src, threading.Event()) == pytest.approx((48.1173, 11.5167), abs=1e-4)


def test_config_choices():
    assert gps.from_config(GpsConfig()) is None
    with pytest.raises(gps.GpsError):
        gps.from_config(GpsConfig(source="nmea", port=""))


@pytest.mark.parametrize("report", [
    {"class": "TPV", "mode": None, "lat": 1.0, "lon": 2.0},
    {"class": "TPV", "mode": "x", "lat": 1.0, "lon": 2.0},
    {"class": "TPV", "mode": 3, "lat": float("nan"), "lon": 2.0},
    {"class": "TPV", "mode": 3, "lat": 91.0, "lon": 2.0},
    {"class": "TPV", "mode": 3, "lat": 1.0, "lon": -181.0},
    {"class": "TPV", "mode": 3, "lat": True, "lon": 2.0},
])
def test_gpsd_malformed_report_gives_nothing(report):
    assert gps.parse_gpsd(json.dumps(report)) is None


def test_a_malformed_line_does_not_stop_the_source(caplog):
    """The GPS thread is not supervised: a line its parser chokes on must not end it for the
    rest of the shift (a gpsd TPV with "mode": null did), it is logged and the source goes on."""
    class Feeding(gps.GpsSource):
        def __init__(self):
            super().__init__(retry_s=0.01)
            self.sent = 0

        def lines(self, stop):
            self.sent += 1
            yield "boom" if self.sent == 1 else "fix"

        def feed(self, line):
            if line == "boom":
                raise TypeError("a parser bug")
            self.update(1.0, 2.0)

    src = Feeding()
    assert _wait_position(src, threading.Event()) == (1.0, 2.0)
    assert "a parser bug" in caplog.text


def _run_for(src, seconds):
    stop = threading.Event()
    thread = threading.Thread(target=src.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(3)


def _gps_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == gps.__name__ and r.levelname == "WARNING"]


@pytest.mark.parametrize("lines, why", [
    ([b"$GPRMC,123519,A,4807.038,N*00\r\n", b"\x8f\x13garbage\r\n"], "check gps.baud"),
    ([nmea("GPRMC,123519,V,,,,,,,230394,,").encode() + b"\r\n"], "reports no fix"),
    ([nmea("GPGSV,3,1,11,03,03,111,00").encode() + b"\r\n"], "no RMC or GGA"),
])
def test_a_receiver_without_a_position_says_why_once(caplog, lines, why):
    """Garbage (a wrong baud), no fix (the antenna) or no RMC/GGA: the reads are stored without
    position, and the log says which and what to check, once, not at every line."""
    port, _ = _serve(lines, repeat=True)
    src = gps.NmeaSerial(f"socket://127.0.0.1:{port}", quiet_s=0.5)
    with caplog.at_level("WARNING"):
        _run_for(src, 1.8)
    assert src.position() is None
    said = [m for m in _gps_warnings(caplog) if "no position" in m]
    assert len(said) == 1 and why in said[0] and "stored without position" in said[0]


def _flaky_server(sessions):
    """Serves one session of lines per connection, then closes it (a pulled cable, gpsd dying);
    before the first connection nothing listens for a while (gpsd not started yet)."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def serve():
        time.sleep(0.6)
        server = socket.create_server(("127.0.0.1", port))
        for lines in sessions:
            conn, _ = server.accept()
            with conn:
                try:
                    for _ in range(5):
                        for line in lines:
                            conn.sendall(line)
                        time.sleep(0.1)
                except OSError:
                    pass  # the client hung up first
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return port


def test_gpsd_not_running_then_dying_is_logged_once_each_time_and_reconnected(caplog):
    tpv = json.dumps({"class": "TPV", "mode": 2, "lat": 37.5, "lon": -122.1}).encode() + b"\n"
    port = _flaky_server([[b'{"class":"VERSION"}\n', tpv]] * 5)
    src = gps.Gpsd("127.0.0.1", port, retry_s=0.1)
    with caplog.at_level("WARNING"):
        stop = threading.Event()
        thread = threading.Thread(target=src.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 5
        while src.position() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert src.position() == (37.5, -122.1)
        time.sleep(1.2)  # the first session ends: lost, reconnected, positions again
        stop.set()
        thread.join(3)
    said = _gps_warnings(caplog)
    lost = [m for m in said if "is lost" in m]
    # the refused connections before gpsd starts (one every 0.1 s) are one line, with what to check
    assert sum("refused" in m for m in lost) == 1 and "systemctl status gpsd" in lost[0]
    # gpsd dying mid-stream is logged, and the source connects again
    assert len(lost) >= 2 and sum("is back after" in m for m in said) >= 2


def test_a_serial_receiver_unplugged_and_plugged_back_is_read_again(caplog):
    port = _flaky_server([[RMC.encode() + b"\r\n"]] * 2)
    src = gps.NmeaSerial(f"socket://127.0.0.1:{port}", retry_s=0.1)
    with caplog.at_level("WARNING"):
        _run_for(src, 2.2)
    said = _gps_warnings(caplog)
    lost = [m for m in said if "is lost" in m]
    assert 1 <= len(lost) <= 3 and "check its USB cable and gps.port" in lost[0]
    assert "/dev/serial/by-id/" in lost[0]  # a replugged receiver can come back as another ttyUSBn
    assert sum("is back after" in m for m in said) >= 1


def test_a_port_pyserial_cannot_parse_is_named_once(caplog):
    """gps.port 'foo://x' raised ValueError from pyserial: a traceback at every retry."""
    src = gps.NmeaSerial("foo://x", retry_s=0.05)
    with caplog.at_level("WARNING"):
        _run_for(src, 0.5)
    said = _gps_warnings(caplog)
    assert len(said) == 1 and "cannot open foo://x" in said[0] and "gps.port" in said[0]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
