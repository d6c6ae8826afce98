"""Cameras: OpenMV (csi, or sensor on older firmware), ESP32-S3 (camera module), simulator.

The interface every backend implements:

    capture_into(buf) -> int   take a JPEG into the preallocated buf; its length
    quality(q)                 JPEG quality 10-100 for the next captures
    exposure_us, gain_db       of the last capture (0 where the sensor does not say)

A frame too large for buf raises CameraError (the caller counts it). Real
drivers are imported only when chosen, so the module loads on every port.
"""

import os


class CameraError(Exception):
    pass


class Camera:
    name = "base"
    exposure_us = 0
    gain_db = 0.0

    def capture_into(self, buf):
        raise NotImplementedError

    def quality(self, q):
        self._q = q


def _copy(buf, data):
    n = len(data)
    if n > len(buf):
        raise CameraError("frame of " + str(n) + " bytes exceeds the buffer of " + str(len(buf)))
    buf[:n] = data
    return n


class OpenMVCamera(Camera):
    name = "openmv"

    def __init__(self, quality=80):
        self._q = quality
        try:
            import csi

            self._csi = csi.CSI()
            self._csi.reset()
            self._csi.pixformat(csi.RGB565)
            self._csi.framesize(csi.VGA)
            self._sensor = None
        except ImportError:
            import sensor

            sensor.reset()
            sensor.set_pixformat(sensor.RGB565)
            sensor.set_framesize(sensor.VGA)
            sensor.skip_frames(time=500)
            self._csi = None
            self._sensor = sensor

    def snapshot(self):
        return self._csi.snapshot() if self._csi is not None else self._sensor.snapshot()

    def capture_into(self, buf):
        img = self.snapshot()
        src = self._csi if self._csi is not None else self._sensor
        try:
            self.exposure_us = int(src.get_exposure_us() if hasattr(src, "get_exposure_us")
                                   else src.exposure_us())
            self.gain_db = float(src.get_gain_db() if hasattr(src, "get_gain_db") else src.gain_db())
        except (AttributeError, OSError, TypeError):
            self.exposure_us = 0
            self.gain_db = 0.0
        # to_jpeg() on current OpenMV firmware, compress() (in place) on older releases
        to_jpeg = getattr(img, "to_jpeg", None)
        jpeg = to_jpeg(quality=self._q) if to_jpeg is not None else img.compress(quality=self._q)
        return _copy(buf, jpeg.bytearray())

    def grab_small(self, buf):
        """A coarse grey frame (len(buf) samples on a 32-wide grid) for frame differencing."""
        img = self.snapshot()
        w = img.width()
        h = img.height()
        cols = 32
        rows = len(buf) // cols
        i = 0
        for r in range(rows):
            y = (r * h) // rows
            for c in range(cols):
                px = img.get_pixel((c * w) // cols, y)
                buf[i] = (px[0] + px[1] + px[2]) // 3 if isinstance(px, tuple) else px
                i += 1


class Esp32Camera(Camera):
    """ESP32-S3 with the `camera` module of micropython-camera-API."""

    name = "esp32"

    def __init__(self, quality=80):
        from camera import Camera as Cam
        from camera import FrameSize, PixelFormat

        self._q = quality
        self._cam = Cam(pixel_format=PixelFormat.JPEG, frame_size=FrameSize.VGA,
                        jpeg_quality=quality, fb_count=2)

    def quality(self, q):
        self._q = q
        try:
            self._cam.set_quality(q)
        except AttributeError:
            pass

    def capture_into(self, buf):
        data = self._cam.capture()
        if data is None:
            raise CameraError("the camera returned no frame")
        try:
            return _copy(buf, data)
        finally:
            free = getattr(self._cam, "free_buffer", None)
            if free is not None:
                free()


class SimCamera(Camera):
    """JPEG files from a folder, in name order, round and round."""

    name = "sim"

    def __init__(self, folder):
        try:
            names = [n for n in os.listdir(folder) if n.lower().endswith((".jpg", ".jpeg"))]
        except OSError:
            raise CameraError("no frames folder " + folder)
        if not names:
            raise CameraError("no .jpg files in " + folder)
        names.sort()
        self.paths = [folder + "/" + n for n in names]
        self._i = 0
        self.exposure_us = 8000
        self.gain_db = 6.0

    def capture_into(self, buf):
        path = self.paths[self._i % len(self.paths)]
        self._i += 1
        size = os.stat(path)[6]
        if size > len(buf):
            raise CameraError(path + " is " + str(size) + " bytes, more than the buffer")
        with open(path, "rb") as fh:
            n = fh.readinto(memoryview(buf)[:size])
        return n


def make_camera(cfg):
    kind = cfg["camera"]
    if kind == "auto":
        kind = "sim" if cfg["frames_dir"] else ("esp32" if cfg["board_type"] == "esp32s3" else "openmv")
    try:
        if kind == "sim":
            return SimCamera(cfg["frames_dir"])
        if kind == "esp32":
            return Esp32Camera(cfg["jpeg_quality"])
        return OpenMVCamera(cfg["jpeg_quality"])
    except ImportError:
        raise CameraError("no driver for camera '" + kind + "' on this board")
