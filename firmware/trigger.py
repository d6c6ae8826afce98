"""Presence triggers: a debounced GPIO input, on-board frame differencing, a simulator.

The interface every backend implements:

    poll(now_ms) -> strength or None   called every few milliseconds; a number
                                       (0.0-1.0) when a vehicle is detected
    name                               reported as the trigger's source

A trigger fires once per detection (an edge, not a level).
"""

import time


class Trigger:
    name = "base"

    def poll(self, now_ms):
        return None


class GpioTrigger(Trigger):
    """Radar, loop detector or IR beam on a GPIO input, debounced."""

    name = "gpio"

    def __init__(self, pin, debounce_ms=50, active_high=True):
        from machine import Pin

        self._pin = Pin(pin, Pin.IN, Pin.PULL_DOWN if active_high else Pin.PULL_UP)
        self._active = 1 if active_high else 0
        self._debounce = debounce_ms
        self._stable = self._pin.value()
        self._candidate = self._stable
        self._since = time.ticks_ms()

    def poll(self, now_ms):
        v = self._pin.value()
        if v != self._candidate:
            self._candidate = v
            self._since = now_ms
            return None
        if v != self._stable and time.ticks_diff(now_ms, self._since) >= self._debounce:
            self._stable = v
            if v == self._active:
                return 1.0
        return None


class FrameDiffTrigger(Trigger):
    """Fires when the mean absolute difference of small grey frames jumps.

    `grab(buf)` fills buf with a small greyscale frame (the camera's job); the
    difference is computed here so the logic is the same on every board.
    """

    name = "diff"

    def __init__(self, grab, size=32 * 24, threshold=12, every_ms=100):
        self._grab = grab
        self._prev = bytearray(size)
        self._cur = bytearray(size)
        self._have = False
        self._threshold = threshold
        self._every = every_ms
        self._last = 0
        self._armed = True

    def poll(self, now_ms):
        if time.ticks_diff(now_ms, self._last) < self._every:
            return None
        self._last = now_ms
        self._grab(self._cur)
        score = mean_abs_diff(self._prev, self._cur) if self._have else 0
        self._prev, self._cur = self._cur, self._prev
        self._have = True
        if score >= self._threshold:
            if self._armed:
                self._armed = False
                return min(1.0, score / 64.0)
        else:
            self._armed = True
        return None


def mean_abs_diff(a, b):
    total = 0
    for i in range(len(a)):
        d = a[i] - b[i]
        total += d if d >= 0 else -d
    return total // len(a)


class SimTrigger(Trigger):
    """Fires every interval_ms (0: never), and on fire() (the trigger_test command)."""

    name = "sim"

    def __init__(self, interval_ms):
        self._every = interval_ms
        self._next = time.ticks_add(time.ticks_ms(), interval_ms or 1)
        self._pending = False

    def fire(self):
        self._pending = True

    def poll(self, now_ms):
        if self._pending:
            self._pending = False
            return 1.0
        if self._every and time.ticks_diff(now_ms, self._next) >= 0:
            self._next = time.ticks_add(now_ms, self._every)
            return 0.8
        return None


def make_trigger(cfg, camera=None, pins=None):
    kind = cfg["trigger"]
    if kind == "gpio":
        pin = pins.get("trigger") if pins and "trigger" in pins else cfg["trigger_pin"]
        if isinstance(pin, str) and pin.isdigit():
            # trigger_pin is text; "1" is GPIO 1 (an ESP32's machine.Pin takes only numbers)
            pin = int(pin)
        return GpioTrigger(pin, cfg["debounce_ms"], cfg["trigger_active_high"])
    if kind == "diff":
        grab = getattr(camera, "grab_small", None)
        if grab is None:
            raise ValueError("this camera cannot do frame differencing; use trigger 'gpio'")
        return FrameDiffTrigger(grab, threshold=cfg["diff_threshold"])
    return SimTrigger(cfg["sim_trigger_ms"])
