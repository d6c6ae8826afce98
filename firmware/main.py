"""Boot: configuration, pin map, backends, self-test, then the board runs.

On a board this file is main.py on the flash, next to the other firmware
modules and the `shared` package. On the Unix port (the simulator, tests):

    micropython firmware/main.py CONFIG.json [--pty PATH] [--frames DIR]

Exit code 75 means "reboot me" on the Unix port; on a board it resets.
"""

import gc
import sys


def _setup_path():
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    for p in (here, here + "/.."):
        if p not in sys.path:
            sys.path.append(p)


_setup_path()

import config as fwconfig  # noqa: E402
import status  # noqa: E402
from board import EXIT_REBOOT, Board, report, run  # noqa: E402
from capture import CameraError, make_camera  # noqa: E402
from transport import TransportError, make_transport  # noqa: E402
from trigger import SimTrigger, make_trigger  # noqa: E402

CONFIG_PATH = "config.json"


def parse_args(argv):
    path = CONFIG_PATH
    overrides = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--pty" and i + 1 < len(argv):
            overrides["pty"] = argv[i + 1]
            i += 1
        elif a == "--frames" and i + 1 < len(argv):
            overrides["frames_dir"] = argv[i + 1]
            i += 1
        else:
            path = a
        i += 1
    return path, overrides


def _with_fallback(cfg, name, problems, make):
    """make() with cfg[name] as set, else with its default: a setting this board
    cannot honour (no driver for it) must not keep the board off the link."""
    while True:
        try:
            return make()
        except (TransportError, CameraError, ImportError, OSError) as exc:
            if cfg[name] == fwconfig.DEFAULTS[name]:
                problems.append(name + ": " + str(exc))
                return None
            problems.append(name + " " + str(cfg[name]) + ": " + str(exc) + "; using "
                            + str(fwconfig.DEFAULTS[name]))
            cfg[name] = fwconfig.DEFAULTS[name]


def boot(argv):
    path, overrides = parse_args(argv)
    problems = []
    cfg = fwconfig.load(path, problems)
    for k in overrides:
        cfg[k] = fwconfig.check_value(k, overrides[k])
    pins = None
    if cfg["pinmap"]:
        try:
            pins = fwconfig.load_pinmap(cfg["pinmap"])["pins"]
        except fwconfig.ConfigError as exc:
            problems.append(str(exc))
    led = status.Led(pins.get("led_red") if pins else None)
    if not cfg["board_id"] or len(cfg["key_hex"]) < 32:
        led.set_state("error")
        report("board not provisioned: set board_id and key_hex in " + path
               + "".join("; " + p for p in problems))
        return 2
    # The illuminator's gate is held low by its pull-down while booting; on from here.
    illuminator = status.Illuminator(pins.get("ir_enable") if pins else None)
    illuminator.switch(True)
    transport = _with_fallback(cfg, "transport", problems, lambda: make_transport(cfg, pins))
    camera = _with_fallback(cfg, "camera", problems, lambda: make_camera(cfg))
    if transport is None or camera is None:
        led.set_state("error")
        report("boot failed: " + "; ".join(problems))
        if transport is not None:
            transport.close()
        return 3
    try:
        trigger = make_trigger(cfg, camera, pins)
    except (ValueError, ImportError, OSError) as exc:
        # Stay reachable on the link (triggers by command only) so the setting can be fixed.
        problems.append("trigger: " + str(exc))
        trigger = SimTrigger(0)
    gc.collect()  # the pool wants large free blocks: clear what loading the modules left
    try:
        board = Board(cfg, path, transport, camera, trigger, led, status.Watchdog(), problems)
    except MemoryError:
        # The pool did not fit after all (a fragmented heap, a port with less
        # than it says): come up with the defaults, which fit every board.
        gc.collect()
        problems.append("out of memory with frame_slots " + str(cfg["frame_slots"])
                        + ", max_frame_bytes " + str(cfg["max_frame_bytes"]) + ", chunk_bytes "
                        + str(cfg["chunk_bytes"]) + "; using the defaults for them")
        fwconfig.default_memory(cfg)
        board = Board(cfg, path, transport, camera, trigger, led, status.Watchdog(), problems)
    for text in problems:
        report("config: " + text)
    result = board.self_test()
    if not result["ok"]:
        board.log("error", "self-test failed: " + str(result["checks"]))
    code = run(board)
    transport.close()
    return code


def main():
    code = boot(sys.argv[1:] if sys.platform in ("linux", "darwin") else [])
    if code == EXIT_REBOOT:
        try:
            import machine

            machine.reset()
        except (ImportError, AttributeError):
            pass
    if sys.platform in ("linux", "darwin"):
        sys.exit(code)


main()
