"""The status LED (a pattern per state) and the watchdog.

LED patterns, as (on ms, off ms): boot 100/100, link down 100/900,
ok 50/1950 (a short blink every 2 s), sending on, service 500/500,
error 1000/200 (mostly on).
"""

import time

PATTERNS = {
    "boot": (100, 100),
    "linkdown": (100, 900),
    "ok": (50, 1950),
    "sending": (1, 0),
    "service": (500, 500),
    "error": (1000, 200),
}


def _out_pin(pin):
    """machine.Pin(pin, OUT); None where the port has no such pin (the Unix port)."""
    try:
        from machine import Pin

        return Pin(pin, Pin.OUT)
    except (ImportError, AttributeError, ValueError, OSError):
        return None


class Led:
    def __init__(self, pin=None):
        self.state = "boot"
        self.lit = False
        self._pin = None
        if pin is None:
            return
        try:
            if isinstance(pin, str) and pin.startswith("LED_"):
                import pyb

                self._pin = pyb.LED({"LED_RED": 1, "LED_GREEN": 2, "LED_BLUE": 3}.get(pin, 1))
            else:
                self._pin = _out_pin(pin)
        except (ImportError, ValueError, OSError):
            self._pin = None  # no LED here (the Unix port): the state is still tracked

    def set_state(self, state):
        if state in PATTERNS:
            self.state = state

    def _out(self, on):
        self.lit = on
        if self._pin is None:
            return
        if hasattr(self._pin, "on"):
            self._pin.on() if on else self._pin.off()
        else:
            self._pin.value(1 if on else 0)

    def tick(self, now_ms):
        on_ms, off_ms = PATTERNS[self.state]
        if off_ms == 0:
            self._out(True)
            return
        self._out((now_ms % (on_ms + off_ms)) < on_ms)


class Illuminator:
    """The IR illuminator's switch: the pin map's ir_enable pin drives its MOSFET gate, high
    for on (hardware/power.md). The gate's pull-down keeps it off until the firmware is up;
    from then it is on while the board runs, so every frame by night has the plate lit."""

    def __init__(self, pin=None):
        self.on = False
        self._pin = None if pin is None else _out_pin(pin)  # None: the state is still tracked

    def switch(self, on):
        self.on = bool(on)
        if self._pin is not None:
            self._pin.value(1 if on else 0)


class Watchdog:
    """machine.WDT where the port has one; on the Unix port a software one
    that only records feeds (the simulator watches the process instead)."""

    def __init__(self):
        self.armed = False
        self.hardware = False
        self.last_feed = 0
        self._wdt = None

    def arm(self, timeout_ms):
        if self.armed:
            return
        try:
            from machine import WDT

            self._wdt = WDT(timeout=timeout_ms)
            self.hardware = True
        except (ImportError, AttributeError):
            self._wdt = None
        self.armed = True
        self.feed()

    def feed(self):
        self.last_feed = time.ticks_ms()
        if self._wdt is not None:
            self._wdt.feed()
