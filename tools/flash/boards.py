"""What differs between board types when flashing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoardProfile:
    name: str
    board_type: str  # as in the device list and the board's config
    march: str  # mpy-cross -march, for any native code in the firmware
    needs_micropython_image: bool  # does `alpr flash` write MicroPython itself (esptool)?
    default_port: str
    micropython_route: str  # how MicroPython gets there, for the technician


PROFILES = {
    "openmv": BoardProfile(
        name="OpenMV Cam H7 Plus / RT1062",
        board_type="openmv",
        march="armv7emdp",
        needs_micropython_image=False,
        default_port="/dev/ttyACM0",
        micropython_route=(
            "OpenMV boards ship with OpenMV's MicroPython firmware; nothing to write. To update "
            "or recover it: OpenMV IDE > Tools > Install the latest release on your OpenMV Cam "
            "(or Run Bootloader), or put the board in its DFU bootloader (BOOT pin to 3.3 V at "
            "power-on) and `dfu-util -a 0 -d 0483:df11 -D firmware.dfu` (H7) / NXP's `blhost` "
            "route documented by OpenMV (RT1062)"),
    ),
    "esp32s3": BoardProfile(
        name="ESP32-S3 camera board (XIAO ESP32S3 Sense, Freenove ESP32-S3 CAM)",
        board_type="esp32s3",
        march="xtensawin",
        needs_micropython_image=True,
        default_port="/dev/ttyACM0",
        micropython_route=(
            "esptool erases the flash and writes a MicroPython image that includes the camera "
            "module (the firmware imports `camera` with Camera, FrameSize, PixelFormat: the "
            "micropython-camera-API builds for ESP32-S3 with octal PSRAM); give it with "
            "--micropython FILE.bin. If the port does not appear, hold BOOT while plugging in USB"),
    ),
}
