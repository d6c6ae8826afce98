"""Finding and opening the serial ports boards sit on.

Ports are opened without toggling DTR/RTS: on ESP32 boards those lines are
wired to reset and boot-mode, and a gateway that reset its cameras on every
start would lose frames. Discovery only picks USB serial devices whose
vendor id belongs to a supported board or a common USB-UART bridge, never
the car computer's own UARTs.
"""

from __future__ import annotations

import logging

import serial
from serial.tools import list_ports

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

# OpenMV (pid.codes and OpenMV's own), Espressif, Silicon Labs CP210x, WCH CH34x, FTDI.
BOARD_VIDS = {0x1209: "openmv", 0x37C5: "openmv", 0x303A: "esp32s3", 0x10C4: "cp210x",
              0x1A86: "ch34x", 0x0403: "ftdi"}


class PortError(AlprError):
    """A serial port that cannot be opened."""


def discover() -> list[str]:
    """Device paths of attached USB serial ports that may be camera boards."""
    found = []
    for info in list_ports.comports():
        if info.vid in BOARD_VIDS:
            found.append(info.device)
    return sorted(found)


def open_port(name: str, baud: int, timeout: float = 0.1) -> serial.Serial:
    """Open `name` (a device path or a pyserial URL) with DTR and RTS left low."""
    try:
        ser = serial.serial_for_url(name, do_not_open=True, baudrate=baud, timeout=timeout,
                                    write_timeout=2.0, dsrdtr=False, rtscts=False)
        ser.dtr = False
        ser.rts = False
        ser.open()
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortError(f"cannot open serial port {name}: {exc}; check the cable, the path, "
                        "and that no other program (a console, the gateway) holds the port") from None
    return ser
